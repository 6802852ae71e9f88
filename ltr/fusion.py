r"""Rank fusion baselines over TREC runs: reciprocal rank fusion, CombSUM, CombMNZ and a weighted sum, with the
score normalisations of Montague & Aslam, and weights fitted by cross-validation over queries.

Every run is a DataFrame as :func:`ltr.io.read_run` returns it (``qid``, ``docno``, ``score``; ``rank`` is ignored,
as trec_eval ignores it) or a path to a run file. Fusion works query by query; for document :math:`d` of query
:math:`q`, run :math:`i` contributes :math:`v_i(d)`, the document's normalised score in that run, and nothing (0,
not counted) when the run did not retrieve it:

=========  ==========================================================================================================
method     fused score
=========  ==========================================================================================================
rrf        :math:`\sum_i w_i / (k + r_i(d))`, :math:`r_i` the 1-based rank in run :math:`i` (Cormack et al., k = 60;
           :math:`w_i = 1` unless weights are given)
combsum    :math:`\sum_i v_i(d)` (Fox & Shaw)
combmnz    :math:`|\{i : d \in \text{run}_i\}| \cdot \sum_i v_i(d)` (Fox & Shaw)
wsum       :math:`\sum_i w_i\, v_i(d)` (weights given, or fitted by :func:`fit_weights`)
=========  ==========================================================================================================

Normalisations, per run and query over the :math:`n` documents the run retrieved (Montague & Aslam; ``norm``):

=========  ==========================================================================================================
none       the raw score
minmax     :math:`(s - \min) / \max(\max - \min, 10^{-9})`
zscore     :math:`(s - \mu) / \max(\sigma, 10^{-9})`, :math:`\sigma` the population standard deviation
sum        :math:`(s - \min) / \max(\sum_j (s_j - \min), 10^{-9})`
max        :math:`s / \max(\max, 10^{-9})` (not shifted: with negative scores the signs stay, and a query whose
           scores are all <= 0 is divided by :math:`10^{-9}`, as ranx does)
rank       :math:`1 - (r - 1) / n`
borda      Borda count (Aslam & Montague) over the query's :math:`C` candidates, the documents any run retrieved:
           :math:`1 - (r - 1) / C` for a document the run retrieved, and :math:`1/2 - (n - 1) / (2C)` (the mean
           points of places n + 1..C) for a candidate it did not; so under ``borda`` every run that has the query scores
           every candidate, and CombMNZ counts those runs. One run alone (:func:`normalize_run`) is its own
           candidates, so ``borda`` equals ``rank`` there
=========  ==========================================================================================================

Conventions (each tested against ranx 0.3's ``ranx.fusion``, which gives the same scores to float round-off):

- Ranks within a run, and the order of the fused run, are by score descending with ties broken by ``docno``
  descending: trec_eval's order, the one :func:`ltr.metrics.evaluate_run` uses, the runs' scores compared as float32
  as trec_eval stores them (1.00000002 and 1.00000001 are tied); the scores are fused, and the fused run ordered, at
  float64, except that fused scores equal to about 12 significant digits are a tie, ordered by docno (the same sum
  reached from other contributions differs in the last bit: 0.8500000000000001 and 0.85, which trec_eval reads as
  one float32 and orders by docno; the written scores keep those bits). ranx orders tied
  documents by an unstable sort, so on ties its ``rrf``, ``rank`` and ``borda`` may differ from ours (and from run to
  run).
- A document a run did not retrieve contributes nothing, as in ranx; CombMNZ counts only the runs that retrieved it
  (``borda`` excepted: see its row).
- A query missing from some runs is fused from the runs that have it (ranx refuses runs whose query sets differ),
  with a warning naming each run that lacks queries and how many (a run that failed on most topics would otherwise
  pass for a fusion); under ``borda`` a run without the query contributes nothing to it. A run with no rows, or
  none of whose queries is in the other runs, is refused, naming it.
- The :math:`10^{-9}` floors are ranx's: a query whose scores are all equal normalises to 0 under minmax, zscore
  and sum. A ``max`` score beyond float64 (scores below about -1e299 over a floored maximum) is refused, naming the
  query.
- ``rrf`` uses ranks only: a normalisation other than ``none`` is refused rather than silently ignored.
- Scores must be finite, and a run may list a document once per query; the error names the run, query and document.

References
----------
G. V. Cormack, C. L. A. Clarke, S. Büttcher, "Reciprocal Rank Fusion Outperforms Condorcet and Individual Rank
Learning Methods", SIGIR 2009.
E. A. Fox, J. A. Shaw, "Combination of Multiple Searches", TREC-2, 1993.
M. Montague, J. A. Aslam, "Relevance Score Normalization for Metasearch", CIKM 2001.
J. A. Aslam, M. Montague, "Models for Metasearch", SIGIR 2001 (the Borda count).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ltr.exceptions import OptionError, TrecFormatError
from ltr.io.trec import check_run_tag

log = logging.getLogger(__name__)

__all__ = ["COORDINATE_MAX_VALUES", "GRID_MAX_POINTS", "METHODS", "NORMS", "SEARCHES", "FusionCV", "PreparedRuns",
           "check_search", "fit_weights", "fuse", "normalize_run", "prepare_runs"]

METHODS = ("rrf", "combsum", "combmnz", "wsum")
NORMS = ("none", "minmax", "zscore", "sum", "max", "rank", "borda")
SEARCHES = ("grid", "coordinate")
_FLOOR = 1e-9  # ranx's floor under every normaliser's denominator
# minmax, zscore and sum do not change when a query's scores are multiplied by a positive number; a query whose
# largest |score| is above this is divided by it first, so that squares and differences cannot overflow (scores of
# 1e308 gave NaN, or a z-score of 0 for every document) while every other query is computed exactly as ranx does
_HUGE = 1e150


# ---------------------------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------------------------
def _as_run(run: pd.DataFrame | str | os.PathLike, name: str, *, as_float32: bool = True,
            ranks_used: bool = True, order_key: NDArray[np.float64] | None = None) -> pd.DataFrame:
    """``qid``, ``docno`` (str) and ``score`` (float64) sorted in trec_eval's order, with a 1-based ``rank``;
    ``as_float32=False`` orders the scores as the float64 values they are (a fused run, written as such), and
    ``order_key`` (one value per row of ``run``) orders the rows by those values in their place.
    ``ranks_used``: whether the ranks are fused (rrf, ``norm`` rank or borda, ``depth``), which scores a C float
    cannot hold would change (warned about); fusing the scores themselves they change nothing."""
    path = None
    if isinstance(run, (str, os.PathLike)):
        from ltr.io import read_run

        path, run = run, read_run(run)
    if not isinstance(run, pd.DataFrame):
        raise TypeError(f"{name}: a run is a DataFrame (qid, docno, score) or a path, got {type(run).__name__}")
    missing = [c for c in ("qid", "docno", "score") if c not in run.columns]
    if missing:
        raise ValueError(f"{name} is missing columns {missing}; it has {list(run.columns)}")
    from ltr.metrics.trec import checked_ids  # 117.0 is '117' and a missing id an error, as evaluate_run reads them

    ids = checked_ids(pd.DataFrame({"qid": run["qid"].to_numpy(), "docno": run["docno"].to_numpy()}), name)
    out = pd.DataFrame({"qid": ids["qid"].astype(str).to_numpy(), "docno": ids["docno"].astype(str).to_numpy(),
                        "score": run["score"].to_numpy(dtype=np.float64)})
    bad = ~np.isfinite(out["score"].to_numpy())
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrecFormatError(f"{name}: query {out['qid'].iat[i]} document {out['docno'].iat[i]} has score "
                              f"{out['score'].iat[i]}; fusion needs finite scores")
    dup = out.duplicated(["qid", "docno"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        q, d = out["qid"].iat[i], out["docno"].iat[i]
        if path is not None:  # named by its lines, as every reader's error is
            from ltr.io import run_lines

            lines = run_lines(path, q, d)
            if len(lines) >= 2:
                raise TrecFormatError(f"query {q} lists document {d} twice (first on line {lines[0]})", str(path),
                                      lines[1], d)
        raise TrecFormatError(f"{name}: query {q} lists document {d} twice")
    # trec_eval's order: score descending, then docno descending (queries kept in order of first appearance).
    # Scores are compared as the C float trec_eval holds (ltr.metrics.evaluate_run_per_query does the same), so
    # 1.00000002 and 1.00000001 are tied and go by docno: ranks agree with ltr evaluate's; the values stay float64
    q_codes, _ = pd.factorize(out["qid"])
    d_codes, _ = pd.factorize(out["docno"], sort=True)  # docno order, as strcmp on UTF-8
    key = out["score"].to_numpy() if order_key is None else np.asarray(order_key, dtype=np.float64)
    if as_float32:
        from ltr.metrics.trec import warn_float32_misfits

        if ranks_used:
            warn_float32_misfits(out["qid"].to_numpy(), out["docno"].to_numpy(), key, str(path or name))
        with np.errstate(over="ignore", under="ignore"):  # beyond float32: inf, as C's conversion gives (warned)
            key = key.astype(np.float32)
    order = np.lexsort((-d_codes, -key, q_codes))
    out = out.iloc[order].reset_index(drop=True)
    sizes = out.groupby("qid", sort=False).size()
    out["rank"] = np.arange(len(out)) - np.repeat(np.cumsum(sizes.to_numpy()) - sizes.to_numpy(), sizes) + 1
    out["n"] = np.repeat(sizes.to_numpy(), sizes)
    return out


def normalize_run(run: pd.DataFrame | str | os.PathLike, norm: str = "minmax") -> pd.DataFrame:
    """The run with each query's scores normalised (module table), in trec_eval's order.

    Examples
    --------
    >>> run = pd.DataFrame({"qid": ["1", "1", "1"], "docno": ["a", "b", "c"], "score": [2.0, 4.0, 3.0]})
    >>> normalize_run(run, "minmax")[["docno", "score"]].values.tolist()
    [['b', 1.0], ['c', 0.5], ['a', 0.0]]
    >>> normalize_run(run, "rank")["score"].round(4).tolist()    # 1 - (r - 1) / 3
    [1.0, 0.6667, 0.3333]
    """
    norm = _check_choice("norm", norm, NORMS)
    r = _as_run(run, "run", ranks_used=norm in ("rank", "borda"))
    return r.assign(score=_normalised(r, norm))[["qid", "docno", "rank", "score"]]


def _normalised(r: pd.DataFrame, norm: str) -> NDArray[np.float64]:
    s = r["score"].to_numpy()
    if norm == "none":
        return s.copy()
    if norm in ("rank", "borda"):  # borda over one run's own candidates; prepare_runs counts every run's
        return 1.0 - (r["rank"].to_numpy() - 1) / r["n"].to_numpy()
    if norm == "max":  # not scale-free when the maximum is floored, so computed before the rescaling below
        with np.errstate(over="ignore"):  # refused below, by name
            out = s / np.maximum(r.groupby("qid", sort=False)["score"].transform("max").to_numpy(), _FLOOR)
        if not np.isfinite(out).all():
            i = int(np.flatnonzero(~np.isfinite(out))[0])
            raise ValueError(f"norm='max': query {r['qid'].iat[i]} document {r['docno'].iat[i]} has score "
                             f"{float(s[i])!r} over a maximum of at most 1e-9, beyond float64; use another norm")
        return out
    scale = r["score"].abs().groupby(r["qid"], sort=False).transform("max").to_numpy()
    if (scale > _HUGE).any():
        s = np.where(scale > _HUGE, s / np.where(scale > _HUGE, scale, 1.0), s)
        r = r.assign(score=s)
    g = r.groupby("qid", sort=False)["score"]
    if norm == "minmax":
        low, high = g.transform("min").to_numpy(), g.transform("max").to_numpy()
        return (s - low) / np.maximum(high - low, _FLOOR)
    if norm == "zscore":
        mean, std = g.transform("mean").to_numpy(), g.transform("std", ddof=0).to_numpy()
        return (s - mean) / np.maximum(std, _FLOOR)
    low = g.transform("min").to_numpy()  # "sum"
    total = g.transform("sum").to_numpy() - low * r["n"].to_numpy()
    return (s - low) / np.maximum(total, _FLOOR)


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------------------------
# Runs side by side
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreparedRuns:
    """Runs aligned on (query, document): ``values[j, i]`` is run ``i``'s contribution to pair ``j`` before
    weighting (normalised score, or ``1 / (k + rank)`` for rrf; 0 where it did not retrieve the document), and
    ``present[j, i]`` whether it retrieved it (under ``borda``, whether it scores it: every candidate of a query
    the run has)."""

    method: str
    norm: str
    qid: NDArray[np.object_]
    docno: NDArray[np.object_]
    values: NDArray[np.float64]
    present: NDArray[np.bool_]
    names: tuple[str, ...] = field(default=())

    @property
    def n_runs(self) -> int:
        return self.values.shape[1]

    def scores(self, weights: ArrayLike | None = None) -> NDArray[np.float64]:
        """The fused score of every pair: its runs' weighted contributions added from the smallest, so that the same
        contributions from runs in another order give the same sum to the last bit (RRF ranks (1, 2, 7) and
        (7, 1, 2) are a tie, ordered by docno; added in run order, as ranx adds them, they differed in the last bit
        and were ordered by that, trial t54)."""
        with np.errstate(over="ignore"):  # an overflow is named below, not warned of by numpy
            parts = self.values if weights is None else self.values * np.asarray(weights, dtype=np.float64)
            parts = np.sort(parts, axis=1)
            total = np.zeros(self.values.shape[0])
            for i in range(self.n_runs):
                total = total + parts[:, i]
            if self.method == "combmnz":
                total = total * self.present.sum(axis=1)
        if not np.isfinite(total).all():  # the inputs are finite (checked on reading): the sum went past a double
            from ltr.exceptions import ComparisonDataError

            i = int(np.flatnonzero(~np.isfinite(total))[0])
            what = (f"the fused score of query {self.qid[i]} document {self.docno[i]} overflows a double "
                    f"({total[i]}): its runs' {'weighted ' if weights is not None else ''}scores add up past 1.8e308")
            smaller = " or give smaller weights" if weights is not None else ""
            raise ComparisonDataError(f"{what} (norm={self.norm!r}); normalise them (norm='minmax', 'zscore', ...)"
                                      f"{smaller}", cli=f"{what} (--norm {self.norm}); normalise them (--norm "
                                      f"minmax, zscore, ...){smaller}")
        return total

    def run(self, weights: ArrayLike | None = None, *, tag: str = "fused") -> pd.DataFrame:
        """The fused run (``qid Q0 docno rank score tag``), in trec_eval's order."""
        return self.ordered(self.scores(weights), check_run_tag(tag))

    def ordered(self, scores: NDArray[np.float64], tag: str) -> pd.DataFrame:
        """The run of these fused ``scores`` (one per pair), in trec_eval's order (module conventions)."""
        out = pd.DataFrame({"qid": self.qid, "docno": self.docno, "score": scores})
        r = _as_run(out, "fused run", as_float32=False, order_key=_without_round_off(scores))
        return pd.DataFrame({"qid": r["qid"], "q0": "Q0", "docno": r["docno"], "rank": r["rank"].astype(np.int64),
                             "score": r["score"], "tag": tag})


def _without_round_off(total: NDArray[np.float64]) -> NDArray[np.float64]:
    """``total`` with its significand rounded to 40 bits (about 12 significant digits), to order a fused run by:
    the same sum reached from other contributions (rank points 0.99 + 0.97 and 0.98 + 0.98, minmax scores 0.2 + 0.4
    and 0.6) differed in the last bit, which ordered them where trec_eval, reading the scores as float32, sees a tie
    and orders by docno (trial t63: the file's ranks disagreed with the evaluated order in most queries under
    ``rank``). Values closer than that are a tie for trec_eval as well; rounding in binary, no sum overflows or
    underflows (a decimal scale did below 1e-297)."""
    significand, exponent = np.frexp(total)
    with np.errstate(over="ignore"):  # a sum within 2^-40 of the largest double rounds to inf: still the largest
        return np.ldexp(np.round(significand * 2.0 ** 40), exponent - 40)


def prepare_runs(runs: Sequence[pd.DataFrame | str | os.PathLike], *, method: str = "rrf", norm: str | None = None,
                 k: float = 60.0, depth: int | None = None) -> PreparedRuns:
    """Validate, rank, normalise and align runs once (what :func:`fuse` and :func:`fit_weights` build on).

    ``norm`` defaults to ``"none"`` for rrf and ``"minmax"`` for the others; ``depth`` keeps each run's top
    ``depth`` documents per query before fusing.
    """
    method = _check_choice("method", method, METHODS)
    norm = ("none" if method == "rrf" else "minmax") if norm is None else _check_choice("norm", norm, NORMS)
    if method == "rrf" and norm != "none":
        raise ValueError(f"rrf fuses ranks, so norm={norm!r} would change nothing; leave norm unset (or 'none')")
    # NumPy's numbers too, as the scorers and the retriever take them (depth=np.int64(5) was refused; trial t58)
    if not (isinstance(k, (int, float, np.integer, np.floating)) and not isinstance(k, (bool, np.bool_))
            and math.isfinite(k) and k >= 0):
        raise ValueError(f"k must be a finite number >= 0, got {k!r}")
    if depth is not None and (isinstance(depth, (bool, np.bool_)) or not isinstance(depth, (int, np.integer))
                              or depth < 1):
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    depth = None if depth is None else int(depth)
    k = float(k) if isinstance(k, np.floating) else int(k) if isinstance(k, np.integer) else k
    if isinstance(runs, (pd.DataFrame, str, os.PathLike)) or len(runs) < 2:
        raise ValueError("fusion needs at least two runs")
    names = tuple(str(r) if isinstance(r, (str, os.PathLike)) else f"run {i + 1}" for i, r in enumerate(runs))
    parts, query_sets = [], []
    for i, (run, name) in enumerate(zip(runs, names)):
        r = _as_run(run, name, ranks_used=method == "rrf" or norm in ("rank", "borda") or depth is not None)
        if r.empty:  # fusing it would hand back the other runs as "fused", exit 0; ltr evaluate refuses it too
            what = "the run file has no lines (blank and '#' lines only)" if isinstance(run, (str, os.PathLike)) \
                else "the run has no rows"
            raise TrecFormatError(f"{name}: {what}")
        query_sets.append(pd.unique(r["qid"]))
        if depth is not None:
            r = r[r["rank"] <= depth].reset_index(drop=True)
            r["n"] = np.minimum(r["n"], depth)
        v = 1.0 / (k + r["rank"].to_numpy()) if method == "rrf" else _normalised(r, norm)
        parts.append(pd.DataFrame({"qid": r["qid"], "docno": r["docno"], "run": i, "value": v, "rank": r["rank"],
                                   "n": r["n"]}))
    _check_overlap(query_sets, names)
    table = pd.concat(parts, ignore_index=True)
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays([table["qid"], table["docno"]]))
    values = np.zeros((len(uniques), len(runs)))
    present = np.zeros((len(uniques), len(runs)), dtype=bool)
    values[codes, table["run"].to_numpy()] = table["value"].to_numpy()
    present[codes, table["run"].to_numpy()] = True
    if norm == "borda":
        _borda(table, codes, uniques.get_level_values(0), values, present)
    return PreparedRuns(method, norm, uniques.get_level_values(0).to_numpy(dtype=object),
                        uniques.get_level_values(1).to_numpy(dtype=object), values, present, names)


def _check_overlap(query_sets: list[NDArray[np.object_]], names: tuple[str, ...]) -> None:
    """Refuse a run none of whose queries is in the others: its union with them is no fusion, and the usual cause
    is another numbering of the same topics ('Q1' for '1'). A partial overlap is fused (module docstring), with a
    warning per run that lacks queries."""
    for i in reversed(range(len(names))):  # two disjoint runs: name the later one, the run being added
        own, name = query_sets[i], names[i]
        others = pd.unique(np.concatenate([q for j, q in enumerate(query_sets) if j != i]))
        if not np.isin(own, others).any():
            raise ValueError(f"{name}: none of its {len(own)} queries is in the other runs' {len(others)} "
                             f"(query ids such as {own[0]!r} and {others[0]!r}?)")
    every = pd.unique(np.concatenate(query_sets))
    for own, name in zip(query_sets, names):
        lacking = every[~np.isin(every, own)]
        if lacking.size:
            shown = ", ".join(map(str, lacking[:5])) + (", ..." if lacking.size > 5 else "")
            log.warning("%s lacks %d of the %d queries (%s): those are fused from the other runs alone", name,
                        lacking.size, every.size, shown)


def _borda(table: pd.DataFrame, codes: NDArray[np.intp], pair_qid: pd.Index, values: NDArray[np.float64],
           present: NDArray[np.bool_]) -> None:
    """Borda counts in place (module table): over the query's C candidates, 1 - (r - 1) / C where the run retrieved
    the document, and 1/2 - (n - 1) / (2C) where it has the query but not the document (ranx's borda)."""
    qid = pd.Series(np.asarray(pair_qid, dtype=object))
    C = qid.map(qid.value_counts()).to_numpy(dtype=np.float64)
    runs = table["run"].to_numpy()
    values[codes, runs] = 1.0 - (table["rank"].to_numpy() - 1) / C[codes]
    for i in range(values.shape[1]):
        n = qid.map(table.loc[runs == i].groupby("qid", sort=False)["n"].first()).to_numpy(dtype=np.float64)
        fill = ~present[:, i] & ~np.isnan(n)  # a run without the query contributes nothing to it
        values[fill, i] = 0.5 - (n[fill] - 1) / (2.0 * C[fill])
        present[fill, i] = True


def _weights(weights: ArrayLike | None, n_runs: int, method: str) -> NDArray[np.float64] | None:
    if weights is None:
        if method == "wsum":
            raise OptionError("method='wsum' needs weights (one per run), or fit them with fit_weights",
                              cli="--method wsum needs --weights (one per run), or fit them with --fit-weights")
        return None
    if method in ("combsum", "combmnz"):
        raise OptionError(f"{method} has no weights; use method='wsum' (or 'rrf' for weighted RRF)",
                          cli=f"--method {method} has no weights; use --method wsum (or rrf for weighted RRF)")
    try:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):  # ('1,1': numpy's "could not convert string to float"; trial t61)
        raise ValueError(f"weights must be numbers, one per run (e.g. [1.0, 0.5]), got {weights!r}") from None
    if w.size != n_runs:
        raise ValueError(f"weights: {w.size} given for {n_runs} runs")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"weights must be finite and >= 0, got {w.tolist()}")
    if not (w > 0).any():
        raise ValueError(f"weights must hold at least one above 0 (all 0 discards every run), got {w.tolist()}")
    return w


def fuse(runs: Sequence[pd.DataFrame | str | os.PathLike], *, method: str = "rrf", norm: str | None = None,
         weights: ArrayLike | None = None, k: float = 60.0, depth: int | None = None,
         tag: str = "fused") -> pd.DataFrame:
    """Fuse two or more runs into one (formulas and conventions in the module docstring).

    Parameters
    ----------
    runs : sequence of DataFrame or path
        TREC runs (``qid``, ``docno``, ``score`` columns; :func:`ltr.io.read_run`'s frames) or run files.
    method : {"rrf", "combsum", "combmnz", "wsum"}, default="rrf"
    norm : {"none", "minmax", "zscore", "sum", "max", "rank", "borda"}, optional
        Per-query score normalisation (module table; ranx's ``min-max`` is ``minmax`` and its ``zmuv``
        ``zscore``); default ``"none"`` for rrf (which only reads ranks), ``"minmax"`` otherwise.
    weights : array-like of shape (n_runs,), optional
        Needed by ``wsum``; optional for ``rrf`` (weighted RRF); refused by CombSUM and CombMNZ.
    k : float, default=60
        RRF's constant.
    depth : int, optional
        Fuse each run's top ``depth`` documents per query only.
    tag : str, default="fused"

    Returns
    -------
    DataFrame
        ``qid q0 docno rank score tag``, each query's documents in trec_eval's order (write it with
        :func:`ltr.io.write_run`).

    Examples
    --------
    Two runs of one query: ``a`` is first in both, ``b`` second in one and absent from the other, ``c`` second in
    the other: RRF gives a 2/61, b and c 1/62 each (tied: docno descending puts c first).

    >>> r1 = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "b"], "score": [2.0, 1.0]})
    >>> r2 = pd.DataFrame({"qid": ["1", "1"], "docno": ["a", "c"], "score": [0.9, 0.5]})
    >>> f = fuse([r1, r2])
    >>> f["docno"].tolist(), bool(f["score"].iat[0] == 2 / 61), bool(f["score"].iat[1] == 1 / 62)
    (['a', 'c', 'b'], True, True)
    >>> fuse([r1, r2], method="combmnz")["score"].tolist()    # minmax: a 1 + 1, counted twice; b 0; c 0
    [4.0, 0.0, 0.0]
    """
    check_run_tag(tag)  # before any run is read
    if not isinstance(runs, (pd.DataFrame, str, os.PathLike)) and len(runs) >= 2:
        _weights(weights, len(runs), method)  # an option's error before any run is read
    prepared = prepare_runs(runs, method=method, norm=norm, k=k, depth=depth)
    return prepared.run(_weights(weights, prepared.n_runs, method), tag=tag)


# ---------------------------------------------------------------------------------------------------------------
# Weights fitted by cross-validation over queries
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class FusionCV:
    """The result of :func:`fit_weights`.

    Attributes
    ----------
    method, norm, metric, search : str
    folds : list of dict
        Per fold: ``weights`` (chosen on the fold's training queries), ``train`` (their mean metric), ``test``
        (the mean over the fold's held-out judged queries), ``test_queries`` (every held-out query id).
    run : DataFrame
        The out-of-fold fused run: each query fused with the weights its fold chose.
    mean : float
        The metric of ``run`` over every judged query.
    """

    method: str
    norm: str
    metric: str
    search: str
    folds: list[dict[str, Any]]
    run: pd.DataFrame
    mean: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the run)."""
        return {"method": self.method, "norm": self.norm, "metric": self.metric, "search": self.search,
                "mean": self.mean, "folds": [{k: v for k, v in f.items()} for f in self.folds]}


def check_step(step: float) -> None:
    """Refuse a weight step that is not a number in (0, 1] dividing 1 evenly (the grid of :func:`fit_weights`)."""
    ok = isinstance(step, (int, float)) and not isinstance(step, bool) and math.isfinite(step) and 0 < step <= 1
    if not ok or not math.isclose(round(1.0 / step) * step, 1.0):
        raise ValueError(f"step must divide 1 evenly (0.1, 0.05, 0.25, ...), got {step!r}")


#: The most weightings a grid search scores (on every fold's training queries).
GRID_MAX_POINTS = 20000
#: The most values a coordinate search tries for a weight (step 0.001): each round scores all of them, for every
#: weight, on every fold; a step of 1e-9 made a list of a billion values before anything was scored.
COORDINATE_MAX_VALUES = 1001


def check_search(search: str, step: float, n_runs: int) -> None:
    """Refuse a ``step`` (:func:`check_step`) whose search would score too many weightings: a grid of more than
    :data:`GRID_MAX_POINTS` points over ``n_runs`` runs, or a coordinate search of more than
    :data:`COORDINATE_MAX_VALUES` values per weight; before any run is read.

    Examples
    --------
    >>> check_search("grid", 0.1, 3)
    >>> check_search("coordinate", 0.0001, 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ltr.exceptions.OptionError: step 0.0001 gives 10001 values a weight...
    """
    check_step(step)
    m = round(1.0 / step)
    if search == "grid":
        count = math.comb(m + n_runs - 1, n_runs - 1)
        if count > GRID_MAX_POINTS:
            said = f"a grid with step {step:g} over {n_runs} runs has {count} points (at most {GRID_MAX_POINTS})"
            raise OptionError(f"{said}; use search='coordinate' or a larger step",
                              cli=f"--step {step:g}: {said}; use --search coordinate or a larger step")
    elif m + 1 > COORDINATE_MAX_VALUES:
        said = (f"gives {m + 1} values a weight, and coordinate search scores every one for each weight at every "
                f"round, on every fold (at most {COORDINATE_MAX_VALUES}: a step of 0.001)")
        raise OptionError(f"step {step:g} {said}", cli=f"--step {step:g} {said}")


def _simplex(n_runs: int, step: float) -> list[tuple[float, ...]]:
    """Weight vectors on the simplex with the given step (weights sum to 1; fusion is scale-invariant); the step and
    the grid's size are checked by the caller (:func:`check_search`)."""
    m = round(1.0 / step)
    out = []
    for cuts in itertools.combinations(range(m + n_runs - 1), n_runs - 1):
        parts = np.diff([-1, *cuts, m + n_runs - 1]) - 1
        out.append(tuple(float(p) / m for p in parts))
    return out


class _Scorer:
    """Per-query metric of the fused run for given weights, cached (candidates are shared between folds)."""

    def __init__(self, prepared: PreparedRuns, qrels: pd.DataFrame, metric: str, conventions: dict):
        from ltr._ids import UNPADDED, unpad
        from ltr.metrics import target_metric

        self.prepared = prepared
        self.qrels = qrels
        self.metric = target_metric(metric).name
        self.conventions = conventions
        self.cache: dict[tuple[float, ...], pd.Series] = {}
        # judgments whose numeric ids are read without leading zeros (SMART): the evaluation reads the runs' ids so
        # (ltr.metrics.evaluate_run_per_query), and its per-query values are given back under the runs' own ids,
        # which the folds are cut from
        own = pd.unique(prepared.qid) if qrels.attrs.get("ids") == UNPADDED else ()
        self.own = {unpad(str(q)): q for q in own}
        self.warned = False

    def __call__(self, weights: tuple[float, ...]) -> pd.Series:
        key = tuple(round(w, 12) for w in weights)
        if key not in self.cache:
            import warnings

            from ltr.metrics import evaluate_run_per_query

            run = pd.DataFrame({"qid": self.prepared.qid, "docno": self.prepared.docno,
                                "score": self.prepared.scores(np.asarray(key))})
            run.attrs["name"] = "the fused run"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                per_query = evaluate_run_per_query(self.qrels, run, [self.metric], **self.conventions)[self.metric]
            for w in caught:  # every candidate's fused scores say the same of their C floats: said once
                misfit = "score(s) of the fused run" in str(w.message)
                if not (misfit and self.warned):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                self.warned = self.warned or misfit
            self.cache[key] = per_query.rename(index=lambda q: self.own.get(q, q)) if self.own else per_query
        return self.cache[key]


def _mean_on(per_query: pd.Series, queries) -> float:
    values = per_query.reindex(queries).dropna()
    return float(values.mean()) if len(values) else float("nan")


def _coordinate(score, queries, n_runs: int, grid: Sequence[float], max_rounds: int) -> tuple[float, ...]:
    """Coordinate ascent: each weight in turn over the grid, the others fixed, the vector rescaled to sum 1, until a
    round improves nothing."""
    best = tuple([1.0 / n_runs] * n_runs)
    best_value = _mean_on(score(best), queries)
    for _ in range(max_rounds):
        improved = False
        for i in range(n_runs):
            for v in grid:
                w = list(best)
                w[i] = v
                total = sum(w)
                if total <= 0:
                    continue
                cand = tuple(x / total for x in w)
                value = _mean_on(score(cand), queries)
                if value > best_value + 1e-12:  # strictly better: the search cannot cycle
                    best, best_value, improved = cand, value, True
        if not improved:
            break
    return best


def fit_weights(runs: Sequence[pd.DataFrame | str | os.PathLike], qrels: pd.DataFrame | str | os.PathLike, *,
                method: str = "wsum", norm: str | None = None, metric: str = "ndcg@10", n_splits: int = 5,
                search: str = "grid", step: float = 0.1, max_rounds: int = 10, random_state: int | None = 0,
                k: float = 60.0, depth: int | None = None, gain: str = "linear", rel_threshold: float = 1.0,
                max_grade: float = 4.0, tag: str = "fused") -> FusionCV:
    """Fit fusion weights by cross-validation over queries and return the out-of-fold fused run.

    The judged queries of the runs are shuffled (``random_state``) and cut into ``n_splits`` folds (the unjudged
    ones are shared out over the folds after them, so that every fold is scored); for each fold the
    weights that maximise the mean ``metric`` over the other folds' judged queries are chosen (``search="grid"``:
    every weight vector on the simplex with ``step``, the first best in grid order; ``"coordinate"``: coordinate
    ascent from equal weights, each weight in turn set to each value of ``step``'s grid and the vector rescaled to
    sum 1, so that the weights it reports are ratios, not multiples of ``step``: 4/17, 5/17, 8/17 at step 0.25),
    and the fold's queries are fused with them.

    Parameters
    ----------
    runs : sequence of DataFrame or path
    qrels : DataFrame or path
        Judgments (``qid``, ``docno``, ``rel``; :func:`ltr.io.read_qrels`).
    method : {"wsum", "rrf"}, default="wsum"
        Weighted sum of normalised scores, or weighted RRF.
    norm : str, optional
        As :func:`fuse`.
    metric : str, default="ndcg@10"
        Any :func:`ltr.metrics.parse_metric` name, evaluated as trec_eval does (:func:`ltr.metrics.evaluate_run`)
        with ``gain`` (default linear, trec_eval's).
    gain : {"linear", "exp2"}, default="linear"
        NDCG's gain in ``metric`` (linear: trec_eval's).
    rel_threshold : float, default=1.0
        The lowest grade that counts as relevant in the binary metrics (trec_eval's ``-l``).
    max_grade : float, default=4.0
        ERR's highest grade (``R = (2^rel - 1) / 2^max_grade``).
    n_splits : int, default=5
    search : {"grid", "coordinate"}, default="grid"
    step : float, default=0.1
    max_rounds : int, default=10
        Coordinate ascent's rounds at most.
    random_state : int, optional
    k, depth, tag
        As :func:`fuse`.

    Returns
    -------
    FusionCV
    """
    if method not in ("wsum", "rrf"):
        raise ValueError(f"weights are fitted for method 'wsum' or 'rrf', got {method!r}")
    check_run_tag(tag)
    search = _check_choice("search", search, SEARCHES)
    check_search(search, step, len(runs))
    from ltr.metrics import target_metric

    target_metric(metric)  # before any run is read
    if isinstance(qrels, (str, os.PathLike)):
        from ltr.io import read_qrels

        qrels = read_qrels(qrels)
    prepared = prepare_runs(runs, method=method, norm=norm, k=k, depth=depth)
    queries = pd.unique(prepared.qid)
    score = _Scorer(prepared, qrels, metric, {"gain": gain, "rel_threshold": rel_threshold, "max_grade": max_grade})
    # the folds are cut over the judged queries (those the metric is computed on), so that every fold is scored;
    # the unjudged queries are shared out over the folds after them, fused with their fold's weights
    evaluated = score(tuple([1.0 / prepared.n_runs] * prepared.n_runs)).dropna().index
    judged = np.isin(queries, evaluated)
    n_judged = int(judged.sum())
    if n_judged < 2:
        raise OptionError(f"fitting weights needs judged queries in at least 2 folds; the runs have {n_judged} "
                          "query(ies) with judgments in the qrels")
    if not isinstance(n_splits, int) or isinstance(n_splits, bool) or not 2 <= n_splits <= n_judged:
        said = f"must be an integer in [2, {n_judged}] (the runs' judged queries)"
        raise OptionError(f"n_splits {said}, got {n_splits!r}", cli=f"--folds {n_splits}: {said}")
    rng = np.random.default_rng(random_state)
    parts = np.array_split(queries[judged][rng.permutation(n_judged)], n_splits)
    if n_judged < len(queries):
        rest = np.array_split(queries[~judged][rng.permutation(len(queries) - n_judged)], n_splits)
        parts = [np.concatenate([p, r]) for p, r in zip(parts, rest)]
    grid = [round(i * step, 12) for i in range(round(1.0 / step) + 1)]
    candidates = _simplex(prepared.n_runs, step) if search == "grid" else None
    folds, weights_of = [], {}
    for f, test in enumerate(parts):
        train = np.concatenate([p for j, p in enumerate(parts) if j != f])
        if search == "grid":
            means = [_mean_on(score(c), train) for c in candidates]
            best = candidates[int(np.nanargmax(means))] if not np.isnan(means).all() else candidates[0]
        else:
            best = _coordinate(score, train, prepared.n_runs, grid, max_rounds)
        per_query = score(best)
        folds.append({"fold": f + 1, "weights": [float(w) for w in best], "train": _mean_on(per_query, train),
                      "test": _mean_on(per_query, test), "test_queries": [str(q) for q in test]})
        weights_of.update({q: best for q in test})
    # the out-of-fold run: each query's pairs fused with its fold's weights
    fused = np.empty(prepared.qid.size)
    for best in {tuple(f["weights"]) for f in folds}:
        rows = np.fromiter((weights_of[q] == best for q in prepared.qid), dtype=bool, count=prepared.qid.size)
        fused[rows] = prepared.scores(np.asarray(best))[rows]
    run = prepared.ordered(fused, tag)
    from ltr.metrics import evaluate_run

    mean = float(evaluate_run(qrels, run, [score.metric], **score.conventions)[score.metric])
    return FusionCV(method, prepared.norm, score.metric, search, folds, run, mean)
