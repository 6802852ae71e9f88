"""TREC-style evaluation of a run against qrels, as trec_eval does it, on the same kernels as the array path.

The judged set of a query may hold documents the run did not retrieve: they count in the number of relevant
documents (MAP, Recall, R-precision, bpref, RR's "has a relevant document") and in the ideal DCG, as in
trec_eval. :func:`format_trec_eval` writes the per-query and summary lines of ``trec_eval -q``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ltr._ids import UNPADDED, unpad
from ltr.metrics import _kernels as K
from ltr.metrics.api import aggregate, per_query_with_ideal
from ltr.metrics.registry import parse_metric, parse_metrics

#: What a run's score becomes when a C float cannot hold it (trec_eval reads it into one, ``float sim``).
FLOAT32_MISFIT = ("beyond float32's range (inf as a C float)", "nonzero and below float32's smallest (0 as a C float)")

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMN_ALIASES", "FLOAT32_MISFIT", "checked_ids", "evaluate_run", "evaluate_run_per_query",
           "float32_misfit", "format_trec_eval", "warn_float32_misfits", "whole_float_id"]


#: Column spellings accepted for each column, the toolkit's (trec_eval's) first: PyTerrier's qrels are ``qid``,
#: ``docno``, ``label``; ir_measures' and ir_datasets' ``query_id``, ``doc_id``, ``relevance`` (runs: ``score``), as
#: the JSON-lines qrels reader (:mod:`ltr.io.qrels`) accepts them.
COLUMN_ALIASES = {
    "qid": ("qid", "query_id"),
    "docno": ("docno", "doc_id", "docid"),
    "rel": ("rel", "relevance", "label"),
    "score": ("score",),
}


def _as_frame(data: object, what: str, value: str) -> pd.DataFrame:
    """``data`` as a frame with the columns ``qid``, ``docno`` and ``value`` (``"rel"`` or ``"score"``).

    Takes a DataFrame in any spelling of :data:`COLUMN_ALIASES` (the first one present wins), or the nested
    mapping ``{qid: {docno: value}}`` of pytrec_eval and ranx (``ranx.Qrels``/``ranx.Run`` give it with
    ``to_dict()``).
    """
    import pandas as pd

    if isinstance(data, Mapping):
        rows = []
        for q, docs in data.items():
            if not isinstance(docs, Mapping):
                raise TypeError(f"{what} must be a pandas DataFrame or a mapping {{qid: {{docno: {value}}}}} "
                                f"(pytrec_eval's and ranx's form); query {q!r} maps to {type(docs).__name__}")
            rows.extend((q, d, v) for d, v in docs.items())
        return checked_ids(pd.DataFrame(rows, columns=["qid", "docno", value]), what)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame or a mapping {{qid: {{docno: {value}}}}}, got "
                        f"{type(data).__name__}")
    wanted = ("qid", "docno", value)
    found = {c: next((a for a in COLUMN_ALIASES[c] if a in data.columns), None) for c in wanted}
    missing = [c for c in wanted if found[c] is None]
    if missing:
        accepted = ", ".join(f"{c}: {' / '.join(repr(a) for a in COLUMN_ALIASES[c])}" for c in wanted)
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(data.columns)} (accepted spellings: "
                         f"{accepted})")
    return checked_ids(pd.DataFrame({c: data[found[c]].to_numpy() for c in wanted}), what)


def whole_float_id(value: float) -> str | None:
    """The id a float stands for, read as :func:`checked_ids` reads one: a whole float is its integer (``184.0`` is
    '184'); None for any other (not whole, NaN, or past 2**53, where a float's digits are not the id's).

    >>> whole_float_id(184.0), whole_float_id(1.5)
    ('184', None)
    """
    v = float(value)
    return str(int(v)) if v.is_integer() and abs(v) <= 2**53 else None


def checked_ids(frame: pd.DataFrame, what: str, columns: Sequence[str] = ("qid", "docno"), *,
                shown: Mapping[str, str] | None = None,
                need: str = "every judgment and every ranked document needs a query id and a document id"
                ) -> pd.DataFrame:
    """``frame`` once the id ``columns`` hold ids: a missing one (None, NaN) was read as the text 'None' or 'nan',
    a judgment of its own; a float id (a column that held a NaN upstream) was read as '1.0', which no '1' matches
    (trial t58): a whole float is read as its integer, ``1.0`` as '1', and any other float is refused. The feature
    layer reads the frames and mappings it is given by this rule too (trial t60). Messages name a column as
    ``shown`` maps it (the name the caller's frame gives it) and end with ``need``.

    Examples
    --------
    >>> import pandas as pd
    >>> checked_ids(pd.DataFrame({"qid": [1.0, 2.0], "docno": ["a", "b"]}), "qrels")["qid"].tolist()
    ['1', '2']
    """
    import pandas as pd

    for column in columns:
        ids = frame[column]
        if isinstance(ids.dtype, pd.CategoricalDtype):  # its categories' type is what infer_dtype must see
            ids = ids.astype(object)
        name = (shown or {}).get(column, column)
        missing = ids.isna().to_numpy()
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise ValueError(f"the {name} column of {what} holds a missing id (None or NaN) at row {i} "
                             f"(counting from 0): {need}")
        kind = pd.api.types.infer_dtype(ids, skipna=False)  # one pass in C: 'string', 'integer', 'floating', ...
        if kind not in ("floating", "mixed-integer-float", "mixed", "mixed-integer", "decimal"):
            continue
        values = ids.tolist()
        floats = [i for i, v in enumerate(values) if isinstance(v, (float, np.floating))]
        for i in floats:
            text = whole_float_id(values[i])
            if text is None:
                raise ValueError(f"the {name} column of {what} holds the float {float(values[i])!r} at row {i} "
                                 "(counting from 0): ids are compared as text, as trec_eval compares them; give ids "
                                 "as strings or integers")
            values[i] = text
        if floats:
            frame = frame.assign(**{column: np.array(values, dtype=object)})
    return frame


def _no_duplicates(frame: pd.DataFrame, what: str) -> None:
    dup = frame.duplicated(["qid", "docno"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise ValueError(
            f"{what} lists document {row['docno']!r} twice for query {row['qid']!r} (trec_eval refuses duplicates)"
        )


def _integer_grades(rel: np.ndarray, qrels: pd.DataFrame, run_scores: np.ndarray) -> None:
    """Refuse a fractional grade, as :func:`ltr.io.read_qrels` refuses one in a file: 2.0 is 2, 0.5 is an error.

    trec_eval reads grades with ``atol`` (it would truncate 0.5 to 0) and pytrec_eval refuses non-integers; a
    fractional grade is most often a run passed where the qrels go, which would otherwise give plausible but
    meaningless numbers. ``rel`` is the finite float64 grade column of ``qrels``; ``run_scores``, the run's scores,
    only shape the hint.
    """
    fractional = np.floor(rel) != rel  # one vectorised pass; integer and bool columns never fail it
    if not fractional.any():
        return
    i = int(np.flatnonzero(fractional)[0])
    n = int(np.count_nonzero(fractional))
    more = f" ({n} of {rel.size} grades are fractional)" if n > 1 else ""
    # Mostly fractional grades beside scores that are all integers, as grades are: the arguments look swapped.
    # Only a hint, as a question: integer scores (ranks turned into scores, a min-max normalised run of two
    # documents a query) beside badly made qrels look the same.
    swapped = 2 * n > rel.size and bool((np.floor(run_scores) == run_scores).all())
    hint = ("; the run's scores are all integers, as grades are: are run and qrels swapped? the qrels come first"
            if swapped else "")
    raise ValueError(f"qrels: relevance must be an integer, got {float(rel[i])!r} for query {qrels['qid'].iat[i]!r}, "
                     f"document {qrels['docno'].iat[i]!r}{more}; a float reads as an integer only with an integral "
                     f"value (2.0){hint}")


def _offsets(sizes: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def float32_misfit(scores: NDArray[np.float64]) -> tuple[int, str, int] | None:
    """The finite scores a C float cannot hold (:data:`FLOAT32_MISFIT`): ``(first index, why, how many)``, or None.

    trec_eval 9.0.x (and pytrec_eval, ir_measures) reads a run's scores into C floats and orders by them: a score
    beyond float32's range becomes inf and a nonzero one below its smallest subnormal becomes 0, so such documents
    tie and go by docno, and a run scaled far enough loses its whole order; trec_eval 10.0 and ranx read doubles
    and keep it. :func:`evaluate_run` ranks as the former (its reference) and warns. Scores that merely round to
    one float32 are tied alike; that is the convention, not a misfit.

    >>> float32_misfit(np.array([1.0, 3e39, -1e40]))
    (1, "beyond float32's range (inf as a C float)", 2)
    >>> float32_misfit(np.array([0.0, 1e-30, -2.5])) is None
    True
    """
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        f = s.astype(np.float32)
    over, under = np.isinf(f) & np.isfinite(s), (f == 0) & (s != 0)
    bad = np.flatnonzero(over | under)
    if not bad.size:
        return None
    i = int(bad[0])
    return i, FLOAT32_MISFIT[0] if over[i] else FLOAT32_MISFIT[1], int(bad.size)


def warn_float32_misfits(qids, docnos, scores: NDArray[np.float64], what: str = "the run") -> None:
    """Warn when a run holds scores a C float cannot (:func:`float32_misfit`) and they change its order: ranked as
    trec_eval 9.0.x ranks them, they tie, where trec_eval 10.0 and ranx would not. (One such score that stays first
    or last, or ties that the docnos break in the scores' own order, change nothing and are not said.)"""
    misfit = float32_misfit(scores)
    if misfit is None:
        return
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        held = s.astype(np.float32).astype(np.float64)
    misfits = (np.isinf(held) & np.isfinite(s)) | ((held == 0) & (s != 0))
    exact = np.where(misfits, s, held)  # the misfits as themselves, every other score as trec_eval holds it
    by_docno = np.unique(np.asarray(docnos, dtype=str), return_inverse=True)[1]
    by_query = np.unique(np.asarray(qids, dtype=str), return_inverse=True)[1]
    if np.array_equal(np.lexsort((-by_docno, -held, by_query)), np.lexsort((-by_docno, -exact, by_query))):
        return
    import warnings

    from ltr._stack import stacklevel_outside

    i, why, n = misfit
    warnings.warn(f"{n} score(s) of {what} are {why}, the first for query {str(qids[i])!r}, document "
                  f"{str(docnos[i])!r} ({float(scores[i])!r}): ranked as trec_eval 9.0.x and pytrec_eval rank "
                  "them, which hold scores as C floats, such documents tie and go by docno (trec_eval 10.0 and "
                  "ranx, which read doubles, would not); rescale the scores (their logarithm, say) for one ranking",
                  UserWarning, stacklevel=stacklevel_outside("ltr"))


def evaluate_run_per_query(
    qrels: pd.DataFrame | Mapping[str, Mapping[str, int]],
    run: pd.DataFrame | Mapping[str, Mapping[str, float]],
    metrics: str | Sequence[str] = ("ndcg@10",),
    *,
    gain: str = "linear",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    max_grade: float = 4.0,
    complete: bool = False,
    max_docs: int | None = None,
) -> pd.DataFrame:
    """Per-query metrics of a TREC run, with trec_eval's conventions.

    Each query's documents are ranked by ``score`` descending, ties broken by ``docno`` descending (trec_eval's
    order; the ``rank`` column is ignored, as trec_eval ignores it). Run documents missing from the qrels count
    as non-relevant (label 0). The full judged list of the query defines the number of relevant documents and the
    ideal DCG. Queries in the run but not in the qrels are skipped. Queries in the qrels but not in the run are
    absent (trec_eval without ``-c``; pytrec_eval behaves the same), or, with ``complete=True`` (trec_eval's
    ``-c``), evaluated as an empty ranking: 0 for every measure (``no_relevant`` where the query has nothing
    to find), ``num_ret`` 0 and ``num_rel`` from the qrels. A query a ``{qid: {docno: score}}`` run lists with no
    documents is in the run, an empty ranking, as pytrec_eval scores it (a run file cannot say so).

    ``bpref`` uses judged documents only, as trec_eval: run documents absent from the qrels, and those judged
    with a negative grade (trec_eval's "in the pool but unjudged"), are skipped; the judged non-relevant
    documents (0 <= grade < ``rel_threshold``) of the qrels set its denominator.

    Parameters
    ----------
    qrels : pandas.DataFrame or mapping
        Columns ``qid``, ``docno`` (read as str) and ``rel`` (int grade; negative grades have no gain and are
        not relevant; a float reads as the integer only with an integral value, 2.0, as in a qrels file: 0.5 is a
        ``ValueError`` naming the query and document); PyTerrier's ``label`` and ir_measures' ``query_id``,
        ``doc_id``, ``relevance`` are accepted too (:data:`COLUMN_ALIASES`), and so is pytrec_eval's and ranx's
        ``{qid: {docno: rel}}``. Judgments :func:`ltr.io.read_qrels` read from a SMART or Cranfield file, whose
        numeric ids it reads without leading zeros (``0046`` is document ``46``, as the collection's ``.I`` lines
        say), have the run's numeric ids read so too (:mod:`ltr._ids`).
    run : pandas.DataFrame or mapping
        Columns ``qid``, ``docno`` and ``score`` (or ``query_id``, ``doc_id``), or ``{qid: {docno: score}}``;
        other columns (``rank``, ``tag``) are ignored.
    metrics : str or sequence of str, default=("ndcg@10",)
        Names parsed by :func:`ltr.metrics.parse_metric`, trec_eval's spelling included (``ndcg_cut_10``,
        ``P_5``, ``recip_rank``, ``Rprec``, ``bpref``, ``success_1``, ``num_q``, ``num_ret``, ``num_rel``,
        ``num_rel_ret``).
    gain : {"linear", "exp2"}, default="linear"
        NDCG/DCG gain; ``"linear"`` is trec_eval's.
    no_relevant, rel_threshold, max_grade
        Conventions, see :mod:`ltr.metrics`.
    complete : bool, default=False
        trec_eval's ``-c``: one row per query of the qrels, judged queries the run lacks included.
    max_docs : int, optional
        trec_eval's ``-M``: each query's first ``max_docs`` documents in the order above are evaluated, the rest
        dropped (``num_ret`` counts those kept). Default: all.

    Returns
    -------
    pandas.DataFrame
        Index ``qid`` (str, sorted), one column per canonical metric name: float64, or int64 for the counts
        (``num_q`` is 1 on every row).

    Examples
    --------
    Document ``c`` (relevant) was not retrieved: recall is 1/2 and AP is (1/1) / 2.

    >>> import pandas as pd
    >>> qrels = pd.DataFrame({"qid": ["1", "1", "1"], "docno": ["a", "b", "c"], "rel": [1, 0, 1]})
    >>> run = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [2.0, 1.0]})
    >>> evaluate_run_per_query(qrels, run, ["map", "recall@10", "num_rel_ret"])
         map  recall@10  num_rel_ret
    qid
    1    0.5        0.5            1
    """
    import pandas as pd  # imported here: the array path does not need pandas

    unpadded = getattr(qrels, "attrs", {}).get("ids") == UNPADDED  # (read_qrels of a SMART or Cranfield file)
    attrs = getattr(run, "attrs", {})
    run_name = str(attrs.get("path") or attrs.get("name") or "the run")  # (read_run's file, or a caller's name)
    qrels = _as_frame(qrels, "qrels", "rel")
    # a query a {qid: {docno: score}} run lists with no documents is in the run: 0, as pytrec_eval scores it
    listed_empty = [str(k) for k, docs in run.items() if isinstance(docs, Mapping) and not docs] \
        if isinstance(run, Mapping) else []
    run = _as_frame(run, "run", "score")
    if not isinstance(complete, (bool, np.bool_)):
        raise TypeError(f"complete must be True or False, got {complete!r}")
    if max_docs is not None and (isinstance(max_docs, (bool, np.bool_)) or not isinstance(max_docs, (int, np.integer))
                                 or max_docs < 1):
        raise ValueError(f"max_docs must be an integer >= 1 (or None: every document), got {max_docs!r}")
    parsed = parse_metrics(metrics)
    q = pd.DataFrame({
        "qid": qrels["qid"].astype(str).to_numpy(),
        "docno": qrels["docno"].astype(str).to_numpy(),
        "rel": pd.to_numeric(qrels["rel"]).to_numpy(dtype=np.float64),
    })
    qid, docno = run["qid"].astype(str), run["docno"].astype(str)
    if unpadded:  # the run's numeric ids read as the judgments read theirs (without leading zeros)
        qid, docno = qid.map(unpad), docno.map(unpad)
    r = pd.DataFrame({
        "qid": qid.to_numpy(),
        "docno": docno.to_numpy(),
        "score": pd.to_numeric(run["score"]).to_numpy(dtype=np.float64),
    })
    if np.isnan(r["score"].to_numpy()).any():
        bad = r[np.isnan(r["score"].to_numpy())].iloc[0]
        raise ValueError(f"run has a NaN score for query {bad['qid']!r}, document {bad['docno']!r}")
    if not np.isfinite(q["rel"].to_numpy()).all():
        raise ValueError("qrels has a missing or non-finite rel")
    # Here, where every in-memory qrels (a frame or {qid: {docno: rel}}) is converted, so evaluate_run,
    # compare_runs and fusion's fit_weights all apply the file reader's rule.
    _integer_grades(q["rel"].to_numpy(), q, r["score"].to_numpy())
    _no_duplicates(q, "qrels")
    _no_duplicates(r, "run")

    # trec_eval skips run queries without judgments.
    judged_qids = pd.unique(q["qid"])
    r = r[r["qid"].isin(judged_qids)]
    warn_float32_misfits(r["qid"].to_numpy(), r["docno"].to_numpy(), r["score"].to_numpy(), run_name)
    # The score as trec_eval holds it, a C float (``float sim`` in trec_format.h): scores that round to the same
    # float32 (1.0 and 1.00000001) are tied and go by docno, as in trec_eval, pytrec_eval and ir_measures.
    with np.errstate(over="ignore", under="ignore"):  # beyond float32: inf, as C's conversion gives (warned above)
        r = r.assign(score=r["score"].to_numpy(dtype=np.float64).astype(np.float32).astype(np.float64))
    # trec_eval's order: score descending, then docno descending, within each query (qid ascending). One lexsort of
    # the ids' ranks (factorize(sort=True) numbers them in sorted order) rather than three stable sorts of the string
    # columns: a 1M-line run's order in 0.33 s against 0.79 s (trial t69); no two rows share a qid and docno.
    qid_rank = pd.factorize(r["qid"].to_numpy(), sort=True)[0]
    doc_rank = pd.factorize(r["docno"].to_numpy(), sort=True)[0]
    r = r.take(np.lexsort((-doc_rank, -r["score"].to_numpy(), qid_rank)))
    if max_docs is not None:  # trec_eval's -M: the first max_docs of each query in that order
        r = r[r.groupby("qid", sort=False).cumcount().to_numpy() < max_docs]
    r = r.merge(q, on=["qid", "docno"], how="left", sort=False)
    rel = r["rel"].to_numpy(dtype=np.float64)  # NaN: not in the qrels
    # not in the qrels: no gain and never relevant, whatever rel_threshold (0 at -l 0 counted such documents
    # relevant, where trec_eval's -l0 counts the judged ones alone: trial t60)
    labels = np.where(np.isnan(rel), -np.inf, rel)
    scores = r["score"].to_numpy(dtype=np.float64)

    # Sorted query ids: those of the run, or (-c) every judged query, the missing ones with an empty ranking.
    qids = np.sort(judged_qids) if complete else pd.unique(r["qid"])
    if listed_empty and not complete:
        listed = {unpad(k) if unpadded else k for k in listed_empty} & set(judged_qids)
        qids = np.sort(np.array([*qids, *(listed - set(qids))], dtype=object))
    run_sizes = r.groupby("qid", sort=True).size().reindex(qids, fill_value=0).to_numpy(dtype=np.int64)
    judged = q[q["qid"].isin(qids)].sort_values("qid", kind="stable")
    judged_sizes = judged.groupby("qid", sort=True).size().reindex(qids).to_numpy(dtype=np.int64)
    ideal = np.ascontiguousarray(judged["rel"].to_numpy(dtype=np.float64))
    conventions = dict(gain=gain, ties="stable", no_relevant=no_relevant, rel_threshold=rel_threshold,
                       max_grade=max_grade)

    _name_exp2_overflow(judged, ideal, _offsets(judged_sizes), parsed, gain)
    _name_err_grade(judged, ideal, parsed, max_grade)
    # The rows are already in trec_eval's order: "stable" keeps it for equal scores.
    results = per_query_with_ideal(
        np.ascontiguousarray(labels), np.ascontiguousarray(scores), _offsets(run_sizes), ideal,
        _offsets(judged_sizes), [p for p in parsed if p.spec.code != K.BPREF], **conventions,
    )
    bprefs = [p for p in parsed if p.spec.code == K.BPREF]
    if bprefs:
        # bpref sees judged documents only (grade >= 0), in both the ranking and the judged list.
        row_judged = rel >= 0  # False for NaN
        list_judged = ideal >= 0
        query_of_row = np.repeat(np.arange(qids.size), run_sizes)
        query_of_judgment = np.repeat(np.arange(qids.size), judged_sizes)
        results.update(per_query_with_ideal(
            np.ascontiguousarray(rel[row_judged]), np.ascontiguousarray(scores[row_judged]),
            _offsets(np.bincount(query_of_row[row_judged], minlength=qids.size)),
            np.ascontiguousarray(ideal[list_judged]),
            _offsets(np.bincount(query_of_judgment[list_judged], minlength=qids.size)), bprefs, **conventions,
        ))
    return pd.DataFrame({p.name: results[p.name] for p in parsed}, index=pd.Index(qids, name="qid"))


def _name_err_grade(judged, ideal, parsed, max_grade) -> None:
    """A grade above ERR's ``max_grade``, named by the query and document of its judgment (the metrics, which see
    arrays, named neither; trial t58)."""
    from ltr.exceptions import LabelRangeError

    if not any(p.spec.code == K.ERR for p in parsed) or not ideal.size:
        return
    try:
        top = float(max_grade)
    except (TypeError, ValueError):
        return  # (refused by the metrics, naming the option)
    if not (math.isfinite(top) and top > 0) or ideal.max() <= top:
        return
    i = int(np.argmax(ideal))  # the highest grade, which --max-grade must reach
    grade = ideal[i]
    shown = f"{int(grade)}" if float(grade).is_integer() else f"{grade:g}"
    raise LabelRangeError(
        f"ERR needs grades <= max_grade={top:g}, got the grade {shown} of document {judged['docno'].iat[i]!r} for "
        f"query {judged['qid'].iat[i]!r}", python_fix="pass max_grade= the highest grade of the scale",
        cli_fix="pass --max-grade G, the highest grade of the scale, or measure something other than err@k")


def _name_exp2_overflow(judged, ideal, ideal_ptr, parsed, gain: str) -> None:
    """A grade the exp2 gain cannot hold, or grades whose gains add up past float64 in a query's ideal DCG, named
    by the query and document of the judgments (the metrics, which see arrays, named 'row 0 (query index 0)')."""
    from ltr.metrics.api import EXP2_LIMIT, exp2_gain_error, exp2_sum_error, ndcg_sum_overflow

    names = [p.name for p in parsed if p.spec.code in (K.DCG, K.NDCG, K.MEAN_NDCG)]
    if gain != "exp2" or not names or not ideal.size:
        return
    fix = dict(python_fix="pass gain='linear' (gain = rel, as trec_eval's NDCG)",
               cli_fix="pass --gain linear (gain = rel, as trec_eval's NDCG)")
    if ideal.max() >= EXP2_LIMIT:
        row = int(np.argmax(ideal >= EXP2_LIMIT))
        raise exp2_gain_error(ideal[row], f"query {judged['qid'].iat[row]} document {judged['docno'].iat[row]} of "
                                          "the qrels", ", ".join(names), **fix)
    found = ndcg_sum_overflow(ideal, ideal_ptr, parsed)
    if found is not None:
        row, overflowing = found
        raise exp2_sum_error(ideal, ideal_ptr, row, f"query {judged['qid'].iat[row]} of the qrels", overflowing,
                             **fix)


def evaluate_run(
    qrels: pd.DataFrame | Mapping[str, Mapping[str, int]],
    run: pd.DataFrame | Mapping[str, Mapping[str, float]],
    metrics: str | Sequence[str] = ("ndcg@10",),
    *,
    gain: str = "linear",
    no_relevant: float = 0.0,
    rel_threshold: float = 1.0,
    max_grade: float = 4.0,
    complete: bool = False,
    max_docs: int | None = None,
) -> dict[str, float | int]:
    """trec_eval's ``all`` line: :func:`evaluate_run_per_query` averaged over queries, counts summed.

    Without ``complete`` the mean is over the judged queries of the run; with ``complete=True`` (trec_eval's
    ``-c``) over every query of the qrels, a query the run lacks counting 0; ``max_docs`` is trec_eval's ``-M``.
    ``num_q`` is the number of queries
    averaged over; ``num_ret``, ``num_rel``, ``num_rel_ret`` are sums (:func:`ltr.metrics.aggregate`).

    Returns
    -------
    dict of str to float or int
        Keyed by canonical metric name; NaN (0 for counts) when no query of the run is judged.

    Examples
    --------
    >>> import pandas as pd
    >>> qrels = pd.DataFrame({"qid": ["1", "1", "2", "3"], "docno": ["a", "b", "c", "d"], "rel": [1, 0, 2, 1]})
    >>> run = pd.DataFrame({"qid": ["1", "1", "2"], "docno": ["a", "b", "c"], "score": [1.0, 2.0, 0.0]})
    >>> evaluate_run(qrels, run, ["mrr", "p@1", "num_q"])
    {'mrr': 0.75, 'p@1': 0.5, 'num_q': 2}
    >>> evaluate_run(qrels, run, ["mrr", "num_q", "num_rel"], complete=True)  # query 3 counts as 0
    {'mrr': 0.5, 'num_q': 3, 'num_rel': 3}
    """
    per_query = evaluate_run_per_query(
        qrels, run, metrics, gain=gain, no_relevant=no_relevant, rel_threshold=rel_threshold, max_grade=max_grade,
        complete=complete, max_docs=max_docs,
    )
    return aggregate(per_query)


#: trec_eval's measure table in its order (``te_trec_measures``, usnistgov/trec_eval ``measures.c``), which is the
#: order it prints in.
_TREC_EVAL_ORDER = (
    "runid", "num_q", "num_ret", "num_rel", "num_rel_ret", "map", "gm_map", "Rprec", "bpref", "recip_rank",
    "iprec_at_recall", "P", "relstring", "recall", "infAP", "gm_bpref", "Rprec_mult", "utility", "11pt_avg", "binG",
    "G", "dcg", "ideal_dcg", "ndcg", "ndcg_rel", "Rndcg", "ndcg_cut", "map_cut", "relative_P", "success", "set_P",
    "set_relative_P", "set_recall", "set_map", "set_F", "num_nonrel_judged_ret",
)


def format_trec_eval(
    per_query: pd.DataFrame,
    *,
    names: str = "trec",
    queries: bool = True,
    run_id: str | None = None,
    means: Mapping[str, float | int] | None = None,
) -> str:
    """The lines ``trec_eval -q`` prints for a frame of per-query values: ``measure<TAB>qid<TAB>value``, then ``all``.

    As trec_eval: each line is the measure name left-aligned in 22 characters, a tab, the query id, a tab, and the
    value as ``%6.4f``, or as an integer for the counts; every query's lines come first (in the frame's order:
    :func:`evaluate_run_per_query` sorts the ids as trec_eval does), then the summary lines with qid ``all``
    (counts summed, other measures averaged, as :func:`ltr.metrics.aggregate`). ``num_q`` has no per-query line,
    as in trec_eval. With ``names="trec"`` the measures come in trec_eval's order (its measure table,
    ``te_trec_measures`` in ``measures.c``, and cutoffs ascending), so that the lines equal trec_eval's whatever
    order ``--metrics`` named them in; measures trec_eval lacks follow, in the frame's order. With
    ``names="canonical"`` the frame's column order is kept.

    Parameters
    ----------
    per_query : pandas.DataFrame
        Index = query ids, one column per canonical metric name (:func:`evaluate_run_per_query`, or a frame built
        from :func:`ltr.metrics.evaluate_per_query`).
    names : {"trec", "canonical"}, default="trec"
        ``"trec"``: trec_eval's measure names (``ndcg_cut_10``, ``P_5``, ``recip_rank``, ``Rprec``,
        ``success_1``, ``set_recall``...) where trec_eval has the measure, the canonical name otherwise (``dcg``,
        ``err@10``, ``mrr@10``, ``mean_ndcg``); ``"canonical"``: the toolkit's names throughout.
    queries : bool, default=True
        Print the per-query lines (trec_eval's ``-q``); False prints the summary only.
    run_id : str or None
        When given, a first summary line ``runid  all  <run_id>``, as trec_eval prints.
    means : mapping, optional
        The ``all`` values, where they are not the plain means (LightGBM's weighted ones,
        :func:`ltr.metrics.lightgbm_weighted_means`).

    Returns
    -------
    str
        The lines, each ending in a newline.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"p@5": [0.4, 0.2], "num_rel": [3, 1]}, index=pd.Index(["1", "2"], name="qid"))
    >>> print(format_trec_eval(frame).replace(chr(9), " | "), end="")  # chr(9): the tab
    num_rel                | 1 | 3
    P_5                    | 1 | 0.4000
    num_rel                | 2 | 1
    P_5                    | 2 | 0.2000
    num_rel                | all | 4
    P_5                    | all | 0.3000
    """
    import pandas as pd

    if not isinstance(per_query, pd.DataFrame):
        raise TypeError(f"per_query must be a pandas DataFrame, got {type(per_query).__name__}")
    if names not in ("trec", "canonical"):
        raise ValueError(f"names must be 'trec' or 'canonical', got {names!r}")
    columns = list(per_query.columns)
    parsed = {c: parse_metric(c) for c in columns}
    labels = {c: (parsed[c].trec_name or c) if names == "trec" else c for c in columns}
    if names == "trec":
        def place(c: str) -> tuple[int, int]:
            family = re.sub(r"_\d+$", "", labels[c]) if parsed[c].k is not None else labels[c]
            rank = _TREC_EVAL_ORDER.index(family) if parsed[c].trec_name and family in _TREC_EVAL_ORDER else len(
                _TREC_EVAL_ORDER)
            return rank, parsed[c].k or 0

        columns = sorted(columns, key=place)  # stable: measures trec_eval lacks keep the frame's order
    counts = {c: parsed[c].spec.count for c in columns}

    def line(column: str, qid: object, value: float | int) -> str:
        text = str(int(value)) if counts[column] else f"{float(value):6.4f}"
        return f"{labels[column]:<22}\t{qid}\t{text}"

    lines = []
    if queries:
        values = {c: per_query[c].to_numpy() for c in columns}
        for i, qid in enumerate(per_query.index):
            lines.extend(line(c, qid, values[c][i]) for c in columns if parsed[c].spec.name != "num_q")
    if run_id is not None:
        lines.append(f"{'runid':<22}\tall\t{run_id}")
    summary = aggregate(per_query) if means is None else means
    lines.extend(line(c, "all", summary[c]) for c in columns)
    return "".join(text + "\n" for text in lines)
