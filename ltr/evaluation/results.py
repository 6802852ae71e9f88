"""The records of the experiment workflow and their file format: one module below every other.

:class:`FoldResult` and :class:`CVResult` (cross-validation), :class:`Comparison` (paired tests against a baseline),
and the JSON result file that ``ltr cv --out`` and ``ltr compare --out`` write and ``ltr report`` reads:
Result file (JSON, strict: NaN and infinities are written as ``null``)::

    {
      "format": "ltrkit-result/1",
      "kind": "cv" | "compare",
      "ltrkit_version": "0.1.0",
      "created": "2025-01-01T12:00:00Z",
      "metrics": ["ndcg@10", "map"],              # canonical names
      "baseline": "lambdarank" | null,
      "qids": ["10002", ...],                     # the (paired) test queries, aligned with every per_query list
      "systems": [{
          "name": "lambdarank",
          "mean": {"ndcg@10": 0.51, ...},          # cv: mean of the fold means; compare: mean over qids
          "std": {"ndcg@10": 0.02, ...} | null,    # cv: sample std over folds
          "per_query": {"ndcg@10": [...], ...},    # aligned with qids
          "curve": [NDCG@1, ..., NDCG@20] | null,
          "feature_names": [...] | null,
          "importance": {"gain": [...], "split": [...]} | null,   # mean over folds
          "params": {...},                         # as given, before any preset
          "preset_params": {...},                  # cv: what the small-data preset set over params (the folds
                                                   # trained with both); {"per_fold": {fold: value}} where they differ
          "folds": [{"name": "Fold1", "metrics": {...}, "qids": [...], "per_query": {...}, "curve": [...],
                     "seconds": 1.2, "rounds": 80, "n_train_queries": 470, "n_test_queries": 157,
                     "evals": {"vali": {"ndcg@10": [per round]}, "train": {...}},
                     "importance": {"gain": [...], "split": [...]}, "preset_params": {...},
                     "device": "cpu"}]                                                        # cv only
      }],
      "comparison": null | {"tests": ["t", ...], "correction": "holm", "alpha": 0.05, "n_permutations": 10000,
                            "seed": 0, "dropped": {system: [qids]}, "left_out": {metric: [qids]},
                            "rows": [{"system", "metric", "mean",
                            "baseline_mean", "delta", "relative", "wins", "ties", "losses", "effect_size",
                            "tests": {"t": {"statistic", "pvalue", "pvalue_adjusted", "significant"}}}]},
                            # (relative: null where the baseline's mean is 0; effect_size: null for +-inf, every
                            # difference the same non-zero value, with delta's sign, as it is read back)
      "datasets": [{"name", "n_queries", "n_rows", "n_features", "label_counts": {"0": 2140, ...},
                    "rows_per_query": [...]}],
      "settings": {...}
    }

Nothing here imports the modules that produce or render these records (:mod:`.cv`, :mod:`.compare`, :mod:`.report`);
:meth:`Comparison.format` and :meth:`CVResult.format` load :mod:`.tables`, which imports nothing from this package.
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ltr._json import strict_json

__all__ = [
    "RESULT_FORMAT",
    "CVResult",
    "Comparison",
    "FoldResult",
    "label_digests",
    "comparison_dict",
    "comparison_from_dict",
    "cv_result_dict",
    "cv_result_from_dict",
    "check_result",
    "is_result_file",
    "read_result",
    "result_version",
    "write_result",
]

RESULT_FORMAT = "ltrkit-result/1"


def _means(values: Mapping[str, Any], limit: int = 6) -> str:
    """``ndcg@10 0.4699, map 0.4496`` for a repr (at most ``limit`` metrics, then how many more); a value that is
    not a number (NaN, None from a result file's null) is ``nan``: a repr must not raise."""
    def number(v) -> str:
        try:
            return f"{float(v):.4f}"
        except (TypeError, ValueError):
            return "nan"

    shown = [f"{m} {number(v)}" for m, v in list(values.items())[:limit]]
    more = len(values) - limit
    return ", ".join(shown) + (f", {more} more" if more > 0 else "")


def _nan_mean(values) -> float:
    """The mean of the values that are numbers; nan when none is (without numpy's empty-slice warning)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def _fold_means(folds: Sequence[FoldResult], metrics: Sequence[str]) -> dict[str, float]:
    """:meth:`CVResult.mean` for a repr: a metric missing from a fold, or null there, counts as NaN (no warning, no
    exception)."""
    out = {}
    for m in metrics:
        values = []
        for f in folds:
            v = f.metrics.get(m)
            values.append(float("nan") if v is None else float(v))
        out[m] = _nan_mean(values)
    return out


# The results hold every per-query value, score and document id (hundreds of kilobytes for a few hundred queries):
# their reprs (what a notebook shows for a cell's last value) summarise, and format() gives the tables.
@dataclass(repr=False)
class FoldResult:
    """What one fold produced (all JSON-able).

    ``qids`` are the test queries in file order, ``test_sizes`` their sizes, and ``test_label_digests`` and
    ``test_judgment_digests`` digests of each one's labels and of its (document, label) pairs (:func:`label_digests`:
    ``ltr compare`` pairs a query only where the systems were tested on the same labels, whatever their folds);
    ``doc_ids`` and ``scores`` (one
    per test row, in the test part's row order) are the out-of-fold ranking, kept when the data carries document
    ids so that :meth:`CVResult.run` can write it as a TREC run. ``preset_params`` are the values the small-data
    preset set for this fold's model (:attr:`ltr.Ranker.preset_params_`; empty when no preset applied): with
    ``CVResult.params`` they are what the fold trained with. ``device`` is where the fold's model trained (``"cpu"``
    or ``"gpu"``: ``device="gpu-or-cpu"`` in ``params`` says what was asked; None for an estimator that does not say).
    """

    name: str
    metrics: dict[str, float]
    qids: list[str]
    per_query: dict[str, list[float]]
    curve: list[float]
    seconds: float
    rounds: int
    evals: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    importance: dict[str, list[float]] = field(default_factory=dict)
    n_train_queries: int = 0
    n_test_queries: int = 0
    test_labels: dict[str, int] = field(default_factory=dict)
    test_sizes: list[int] = field(default_factory=list)
    test_label_digests: list[str] = field(default_factory=list)
    test_judgment_digests: list[str] = field(default_factory=list)
    doc_ids: list[str] | None = None
    scores: list[float] | None = None
    preset_params: dict[str, Any] = field(default_factory=dict)
    device: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        return f"<FoldResult {self.name!r}: {len(self.qids)} test queries; {_means(self.metrics)}>"


@dataclass(repr=False)
class CVResult:
    """Cross-validation outcome: per-fold metrics, their mean and std, and pooled per-query test values.

    Attributes
    ----------
    name : str
        The system's name (for comparisons and reports).
    metrics : list of str
        Canonical metric names.
    folds : list of FoldResult
    feature_names : list of str or None
    params : dict
        The estimator's parameters, as given (before any preset: see :meth:`preset_params`).
    settings : dict
        How the CV was run (fold source, normalisation, conventions).
    datasets : list of dict
        :func:`dataset_summary` of the data, when known.
    """

    name: str
    metrics: list[str]
    folds: list[FoldResult]
    feature_names: list[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)

    def __repr__(self) -> str:
        queries = sum(len(f.qids) for f in self.folds)
        return (f"<CVResult {self.name!r}: {len(self.folds)} fold(s), {queries} test queries; mean "
                f"{_means(_fold_means(self.folds, self.metrics))}; .format() for the table>")

    def mean(self) -> dict[str, float]:
        """Mean over folds of each fold's mean metric (the LETOR convention: average of fold averages), over the
        folds that have one: a fold whose test queries all lack a relevant document, evaluated with
        ``no_relevant=nan``, has none (:meth:`folds_without`), and made the whole mean nan (trial t54: 34 of 35
        leave-one-out folds of ADI). nan when no fold has one."""
        return {m: _nan_mean([f.metrics[m] for f in self.folds]) for m in self.metrics}

    def std(self) -> dict[str, float] | None:
        """Sample standard deviation over the folds that have a value (:meth:`mean`); None for a single fold
        (undefined: numpy's ``std(ddof=1)`` of one value is nan, and 0 would claim the folds agree); nan for a metric
        that fewer than two folds have."""
        if len(self.folds) < 2:
            return None
        out = {}
        for m in self.metrics:
            values = np.asarray([f.metrics[m] for f in self.folds], dtype=np.float64)
            values = values[~np.isnan(values)]
            out[m] = float(np.std(values, ddof=1)) if values.size > 1 else float("nan")
        return out

    def folds_without(self) -> dict[str, int]:
        """Per metric, the folds without a value (nan: no test query with a relevant document, under
        ``no_relevant=nan``), which :meth:`mean`, :meth:`std` and :meth:`curve` leave out; metrics every fold has
        are not listed."""
        out = {m: sum(1 for f in self.folds if np.isnan(np.float64(f.metrics[m]))) for m in self.metrics}
        return {m: n for m, n in out.items() if n}

    def folds_without_note(self) -> str:
        """``"; 1 of 35 folds has no test query with a relevant document ..."`` for a footer (empty when every
        fold has every metric): what :meth:`mean` left out."""
        without = self.folds_without()
        if not without:
            return ""
        counts = set(without.values())
        which = "" if len(without) == len(self.metrics) and len(counts) == 1 else \
            f" ({', '.join(f'{m} {n}' for m, n in without.items())})"
        n = max(counts)
        return (f"; {n} of {len(self.folds)} folds {'has' if n == 1 else 'have'} no test query with a relevant "
                f"document{which}, left out of the mean, std and curve")

    def preset_params(self) -> dict[str, Any]:
        """What the small-data preset (:mod:`ltr.rankers.presets`) set in the folds, over :attr:`params`.

        A parameter every fold got with the same value maps to that value; one the folds got differently (the
        leaf size stays at the ranker's where a fold's training part is too small for the preset's) maps to
        ``{"per_fold": {fold name: value}}``, listing the folds that got it (the others trained with
        :attr:`params`' value). Empty when no preset applied.
        """
        out: dict[str, Any] = {}
        for key in dict.fromkeys(k for f in self.folds for k in f.preset_params):
            got = {f.name: f.preset_params[key] for f in self.folds if key in f.preset_params}
            values = list(got.values())
            same = len(got) == len(self.folds) and all(v == values[0] for v in values)
            out[key] = values[0] if same else {"per_fold": got}
        return out

    def pooled_qids(self) -> list[str]:
        """Test query ids pooled over folds (``"Fold2/17"`` if a query is tested in more than one fold)."""
        all_ids = [q for f in self.folds for q in f.qids]
        if len(set(all_ids)) == len(all_ids):
            return all_ids
        return [f"{f.name}/{q}" for f in self.folds for q in f.qids]

    def per_query(self, metric: str | None = None):
        """Pooled per-query test values: a DataFrame indexed by qid (one column per metric), or one Series."""
        import pandas as pd

        frame = pd.DataFrame({m: np.concatenate([np.asarray(f.per_query[m], dtype=np.float64) for f in self.folds])
                              for m in self.metrics}, index=pd.Index(self.pooled_qids(), name="qid"))
        if metric is None:
            return frame
        from ltr.metrics import parse_metric

        return frame[parse_metric(metric).name]

    def curve(self) -> list[float]:
        """Mean over folds of NDCG@k for k = 1..20, over the folds that have a value (:meth:`mean`)."""
        curves = np.asarray([f.curve for f in self.folds], dtype=np.float64)
        return [_nan_mean(curves[:, k]) for k in range(curves.shape[1])] if curves.ndim == 2 else []

    def importance(self, kind: str = "gain") -> list[float] | None:
        """Mean over folds of the engine's importances (``"gain"`` or ``"split"``), or None."""
        vals = [f.importance[kind] for f in self.folds if kind in f.importance]
        return np.mean(vals, axis=0).tolist() if vals else None

    def has_run(self) -> bool:
        """True when every fold kept its test documents and scores (the data had document ids)."""
        return all(f.doc_ids is not None and f.scores is not None for f in self.folds)

    def run(self, *, qid_map: Mapping[str, str] | None = None, tag: str | None = None):
        """The out-of-fold ranking as a TREC run frame (``qid``, ``docno``, ``rank``, ``score``, ``tag``).

        Every test query once, ranked by the model of the fold that held it out. ``qid_map`` renames query ids
        (a LETOR integer id -> the collection's id, as ``ltr features`` records in ``DATA.qids.tsv``); default:
        the map stored in ``settings["qid_map"]``, if any.

        Raises
        ------
        ValueError
            The data had no document ids (``#docid = ...`` comments), or a row had none, so there is no run to
            write.
        """
        if not self.has_run():
            raise ValueError(
                f"{self.name}: the cross-validated data has no document ids ('#docid = ...' comments), so no TREC "
                "run can be made; ltr features writes them"
            )
        from ltr.io import run_from_scores

        qids, docs, scores = [], [], []
        for f in self.folds:
            sizes = f.test_sizes
            q = np.repeat(np.asarray(f.qids, dtype=object), sizes)
            empty = [i for i, d in enumerate(f.doc_ids) if not d]
            if empty:  # a row of the data without its '#docid' comment: named here, not by the run writer
                raise ValueError(f"{self.name}: fold {f.name}: test row {empty[0] + 1} (query {q[empty[0]]}) has no "
                                 f"document id ('#docid = ...' comment), so no TREC run can be made"
                                 + (f" ({len(empty)} such rows in the fold)" if len(empty) > 1 else ""))
            qids.append(q)
            docs.extend(f.doc_ids)
            scores.extend(f.scores)
        qid = np.concatenate(qids) if qids else np.zeros(0, dtype=object)
        qid_map = qid_map if qid_map is not None else self.settings.get("qid_map")
        if qid_map is not None:
            missing = sorted({str(q) for q in qid} - set(qid_map), key=lambda k: (len(k), k))
            if missing:  # left under their LETOR numbers, they would match no judgment of the collection
                raise ValueError(f"{self.name}: the query-id map lacks {len(missing)} of the test queries' LETOR qids "
                                 f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}): a map for "
                                 "another file?")
            qid = np.asarray([qid_map[str(q)] for q in qid], dtype=object)
        if tag is None:  # the result's name as one word (a name is free text; a tag is the run's last column)
            tag = "_".join(str(self.name).split()) or "ltrkit"
        return run_from_scores(qid, np.asarray(docs, dtype=object), np.asarray(scores, dtype=np.float64), tag=tag)

    def summary_rows(self, blank: str = "-", *, for_programs: bool = False) -> tuple[list[str], list[list]]:
        """Header and rows of the per-fold table plus ``mean`` and ``std`` rows (``blank`` in the std row of a
        single fold). A linear model's rounds are its coordinate-ascent passes (all restarts together), said so
        unless ``for_programs`` (CSV: one column name whatever the engine)."""
        linear = (self.params or {}).get("engine") == "linear"
        rounds_said = "passes" if linear and not for_programs else "rounds"
        header = ["fold", *self.metrics, rounds_said, "seconds"]
        # seconds as text with two decimals: a float cell would be printed with the metrics' four
        rows = [[f.name, *[f.metrics[m] for m in self.metrics], f.rounds, f"{f.seconds:.2f}"] for f in self.folds]
        mean, std = self.mean(), self.std()
        rounds = float(np.mean([f.rounds for f in self.folds]))
        rows.append(["mean", *[mean[m] for m in self.metrics], f"{rounds:g}" if rounds == int(rounds) else
                     f"{rounds:.1f}", f"{float(np.mean([f.seconds for f in self.folds])):.2f}"])  # means, not sums
        rows.append(["std", *[std[m] if std is not None else blank for m in self.metrics], "", ""])
        return header, rows

    def format(self, fmt: str = "table") -> str:
        """Per-fold table with mean and std rows (see :func:`ltr.evaluation.tables.format_cv`)."""
        from ltr.evaluation.tables import format_cv

        return format_cv(self, fmt)

    def to_dict(self) -> dict[str, Any]:
        """The result file's content (the schema is in this module's docstring)."""
        return cv_result_dict(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON, atomically."""
        write_result(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CVResult:
        """Rebuild from :meth:`to_dict` output (a ``kind == "cv"`` result file)."""
        return cv_result_from_dict(d)


@dataclass(repr=False)
class Comparison:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    systems : list of str
        In input order; ``baseline`` among them.
    baseline : str
    metrics : list of str
    qids : list of str
        The paired queries.
    per_query : dict of str to dict of str to ndarray
        ``per_query[system][metric]``, aligned with ``qids``.
    rows : list of dict
        One per (system other than the baseline, metric): ``mean``, ``baseline_mean``, ``delta``, ``relative``,
        ``wins``, ``ties``, ``losses``, ``effect_size``, and ``tests[test] = {statistic, pvalue, pvalue_adjusted,
        significant}``.
    tests, correction, alpha, n_permutations, seed
        The settings used.
    dropped : dict of str to list of str
        With ``queries="intersection"``: the queries each system had that were left out.
    curves : dict of str to list of float, or None
        Mean NDCG@1..20 per system over ``qids``, when the inputs had those columns.
    left_out : dict of str to list of str
        Per metric, the queries of ``qids`` that no system has a value for (NaN in ``per_query``: no relevant
        document, evaluated with ``no_relevant=nan``), left out of that metric's tests and means.
    notes : list of str
        Caveats the tests carry, kept in the result file and repeated in every table's footnote (CV results cut
        into other folds: :func:`~ltr.evaluation.compare_cv` warns of them too).
    """

    systems: list[str]
    baseline: str
    metrics: list[str]
    qids: list[str]
    per_query: dict[str, dict[str, np.ndarray]]
    rows: list[dict[str, Any]]
    tests: list[str]
    correction: str
    alpha: float
    n_permutations: int
    seed: int
    dropped: dict[str, list[str]] = field(default_factory=dict)
    curves: dict[str, list[float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        others = [s for s in self.systems if s != self.baseline]
        shown = ", ".join(repr(s) for s in others[:4]) + (f" and {len(others) - 4} more" if len(others) > 4 else "")
        return (f"<Comparison of {shown} against {self.baseline!r} on {len(self.qids)} queries; metrics "
                f"{', '.join(self.metrics)}; tests {', '.join(self.tests)} ({self.correction}); .format() for the "
                "table>")

    def lacking(self) -> dict[str, list[str]]:
        """With ``queries="intersection"``: the queries each system lacks that another system has (what left them
        out of every system's tests; ``dropped`` names the systems that had them), systems lacking none omitted."""
        everyone = list(dict.fromkeys(q for n in self.systems for q in self.dropped.get(n, ())))
        lacks = {n: [q for q in everyone if q not in set(self.dropped.get(n, ()))] for n in self.systems}
        return {n: q for n, q in lacks.items() if q}

    def kept(self, metric: str) -> np.ndarray:
        """A mask over ``qids``: the queries ``metric``'s tests and means are over (all but ``left_out[metric]``)."""
        out = set(self.left_out.get(metric, ()))
        return np.array([q not in out for q in self.qids], dtype=bool)

    def mean(self, system: str, metric: str) -> float:
        """Mean of ``metric`` over the kept queries (:meth:`kept`)."""
        return float(np.mean(np.asarray(self.per_query[system][metric])[self.kept(metric)]))

    def row(self, system: str, metric: str) -> dict[str, Any]:
        for r in self.rows:
            if r["system"] == system and r["metric"] == metric:
                return r
        raise KeyError(f"no comparison row for system {system!r} and metric {metric!r}")

    def format(self, fmt: str = "table", *, layout: str | None = None, digits: int = 4) -> str:
        """Render as ``"table"`` (terminal), ``"markdown"``, ``"latex"``, ``"csv"`` or ``"json"``.

        ``layout="long"`` (one line per system and metric with every p-value; the default for table and csv) or
        ``"wide"`` (systems x metrics with significance markers; the default for Markdown and LaTeX).
        """
        from ltr.evaluation.tables import format_comparison

        return format_comparison(self, fmt, layout=layout, digits=digits)

    def to_dict(self) -> dict[str, Any]:
        """The result file's content (``kind == "compare"``; the schema is in this module's docstring)."""
        return comparison_dict(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON, atomically."""
        write_result(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Comparison:
        """Rebuild from :meth:`to_dict` output (a ``kind == "compare"`` result file)."""
        return comparison_from_dict(d)


def _header(kind: str) -> dict[str, Any]:
    from ltr import __version__

    return {
        "format": RESULT_FORMAT,
        "kind": kind,
        "ltrkit_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _cv_system(r: CVResult) -> dict[str, Any]:
    gain, split = r.importance("gain"), r.importance("split")
    return {
        "name": r.name,
        "mean": r.mean(),
        "std": r.std(),
        "per_query": {m: [v for f in r.folds for v in f.per_query[m]] for m in r.metrics},
        "curve": r.curve(),
        "feature_names": r.feature_names,
        "importance": None if gain is None else {"gain": gain, "split": split},
        "params": r.params,
        "preset_params": r.preset_params(),
        "settings": r.settings,
        "folds": [f.to_dict() for f in r.folds],
    }


def cv_result_dict(r: CVResult) -> dict[str, Any]:
    """The result-file content of a cross-validation (``kind == "cv"``)."""
    d = _header("cv")
    d.update({"metrics": list(r.metrics), "baseline": None, "qids": r.pooled_qids(), "systems": [_cv_system(r)],
              "comparison": None, "datasets": r.datasets, "settings": r.settings})
    return strict_json(d)


def cv_result_from_dict(d: Mapping[str, Any]) -> CVResult:
    """A :class:`CVResult` from a ``kind == "cv"`` result (or one system of a CV comparison)."""
    check_result(d)
    system = d["systems"][0]
    if not system.get("folds"):
        raise ValueError("this result has no folds: it is not a cross-validation result")
    folds = [FoldResult(**_numbers_back({k: v for k, v in f.items() if k in FoldResult.__dataclass_fields__}))
             for f in system["folds"]]
    return CVResult(system["name"], list(d["metrics"]), folds, system.get("feature_names"),
                    system.get("params") or {}, _conventions_back(system.get("settings") or {}),
                    list(d.get("datasets") or []))


def _nan(value: Any) -> Any:
    """``value`` with strict JSON's ``null`` for a NaN (:func:`strict_json`) read back as NaN, in lists and dicts."""
    if value is None:
        return math.nan
    if isinstance(value, list):
        return [_nan(v) for v in value]
    if isinstance(value, dict):
        return {k: _nan(v) for k, v in value.items()}
    return value


def _numbers_back(fold: dict[str, Any]) -> dict[str, Any]:
    """A fold's fields as saved, its metric values' ``null`` NaN again (``no_relevant=nan``: a query without a relevant
    document has none), so that a reloaded result equals the one saved (trial t67: numpy failed on a reloaded fold's
    per-query values)."""
    return {k: _nan(v) if k in ("metrics", "per_query", "curve", "evals") else v for k, v in fold.items()}


def _nan_conventions(conventions: dict[str, Any]) -> dict[str, Any]:
    """A comparison's conventions (``gain``, ``no_relevant``, ...), ``no_relevant: null`` read back as NaN."""
    return {**conventions, "no_relevant": math.nan} if conventions.get("no_relevant", 0) is None else conventions


def _conventions_back(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with ``metric_conventions``' ``no_relevant: null`` read back as NaN: a reloaded result compares
    with a fresh one of the same conventions (trial t67: refused as 'different metric conventions')."""
    settings = dict(settings)
    if isinstance(settings.get("metric_conventions"), dict):
        settings["metric_conventions"] = _nan_conventions(settings["metric_conventions"])
    return settings


def comparison_dict(c: Comparison) -> dict[str, Any]:
    """The result-file content of a comparison (``kind == "compare"``)."""
    cv = c.extra.get("cv", {})
    systems = []
    for n in c.systems:
        s = {"name": n, "mean": {m: c.mean(n, m) for m in c.metrics}, "std": None,
             "per_query": {m: c.per_query[n][m] for m in c.metrics},
             "curve": None if c.curves is None else c.curves.get(n)}
        if n in cv:  # a comparison of CV results keeps each system's folds for the report
            sub = cv[n]["systems"][0]
            s.update({k: sub.get(k) for k in ("std", "feature_names", "importance", "params", "preset_params",
                                              "settings", "folds")})
        systems.append(s)
    d = _header("compare")
    d.update({
        "metrics": list(c.metrics), "baseline": c.baseline, "qids": list(c.qids), "systems": systems,
        "comparison": {"tests": list(c.tests), "correction": c.correction, "alpha": c.alpha,
                       "n_permutations": c.n_permutations, "seed": c.seed, "dropped": c.dropped,
                       "left_out": c.left_out, "notes": list(c.notes), "rows": c.rows,
                       # the Wilcoxon test's tolerance for zeros and ties, that a report says how its p-values came
                       # (a result written before it was recorded was described by today's rule: trial t72)
                       "tie_tol": c.extra.get("tie_tol", _tie_tol())},
        "datasets": c.extra.get("datasets", []), "settings": c.extra.get("conventions", {}),
    })
    return strict_json(d)


def _tie_tol() -> float:
    from ltr.evaluation.significance import TIE_TOL

    return TIE_TOL


def comparison_from_dict(d: Mapping[str, Any]) -> Comparison:
    """A :class:`Comparison` from a ``kind == "compare"`` result."""
    check_result(d)
    cmp = d.get("comparison")
    if d.get("kind") != "compare" or not cmp:
        raise ValueError("not a comparison result (kind must be 'compare')")
    per_query = {s["name"]: {m: np.asarray(s["per_query"][m], dtype=np.float64) for m in d["metrics"]}
                 for s in d["systems"]}
    curves = {s["name"]: s["curve"] for s in d["systems"]} if all(s.get("curve") for s in d["systems"]) else None
    rows = []
    for r in cmp["rows"]:
        r = dict(r)
        r["relative"] = math.nan if r.get("relative") is None else r["relative"]
        if r.get("effect_size") is None:  # strict JSON's null for d = +-inf (constant non-zero differences):
            delta = r.get("delta")  # its sign is the mean difference's (a report showed a blank, trial t56)
            nonzero = isinstance(delta, (int, float)) and math.isfinite(delta) and delta != 0
            r["effect_size"] = math.copysign(math.inf, delta) if nonzero else math.nan
        rows.append(r)
    return Comparison([s["name"] for s in d["systems"]], d["baseline"], list(d["metrics"]), list(d["qids"]),
                      per_query, rows, list(cmp["tests"]), cmp["correction"], float(cmp["alpha"]),
                      int(cmp["n_permutations"]), int(cmp["seed"]), dict(cmp.get("dropped") or {}), curves,
                      extra={"conventions": _nan_conventions(dict(d.get("settings") or {})),
                             "tie_tol": cmp.get("tie_tol")},  # None: written before it was recorded
                      left_out={m: list(q) for m, q in (cmp.get("left_out") or {}).items()},
                      notes=[str(n) for n in cmp.get("notes") or []])


def write_result(path: str | os.PathLike, result: Mapping[str, Any]) -> None:
    """Write a result dict as strict JSON, atomically."""
    from ltr.io import atomic_write

    with atomic_write(path) as f:
        f.write(json.dumps(strict_json(dict(result)), indent=1, allow_nan=False) + "\n")


def check_result(d: Mapping[str, Any]) -> None:
    """Raise ValueError unless ``d`` is a result of this format (naming what is wrong)."""
    if isinstance(d, Mapping) and str(d.get("format", "")).startswith("ltrkit-result/") \
            and d["format"] != RESULT_FORMAT:  # another version's: said as such, not as another tool's file
        raise ValueError(f"an ltrkit result of format {d['format']!r}, which this version ({RESULT_FORMAT!r}) does not "
                         "read: use the ltrkit that wrote it, or run the cv again")
    if isinstance(d, Mapping) and "format" not in d and {"method", "search", "folds"} <= set(d):
        raise ValueError("ltr fuse --report's record of the weights it fitted, not a result ltr report renders (the "
                         "--out of ltr cv, ltr compare or ltr tune); compare the fused run with others: ltr compare "
                         "--qrels QRELS RUN ...")
    if not isinstance(d, Mapping) or d.get("format") != RESULT_FORMAT:
        raise ValueError(f"not an ltrkit result (expected \"format\": \"{RESULT_FORMAT}\")")
    if d.get("kind") not in ("cv", "compare"):
        raise ValueError(f"unknown result kind {d.get('kind')!r}; expected 'cv' or 'compare'")
    for key in ("metrics", "qids", "systems"):
        if key not in d:
            raise ValueError(f"the result lacks {key!r}")
    if not d["systems"]:
        raise ValueError("the result has no system")
    _check_structure(d)


def _check_structure(d: Mapping[str, Any]) -> None:
    """The nested parts that ``ltr compare`` and ``ltr report`` read, by type: a field of the wrong type (an edited
    or damaged file) is named by its path (``systems[0].folds[1].metrics``) instead of failing deep inside."""
    def fail(where: str, what: str, value: Any) -> None:
        raise ValueError(f"{where} must be {what}, got {type(value).__name__} {json.dumps(value)[:40]}")

    def number(where: str, value: Any) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            fail(where, "a number or null", value)

    def numbers(where: str, table: Any, *, lists: bool) -> None:
        if not isinstance(table, Mapping):
            fail(where, "an object", table)
        for name, value in table.items():
            if lists:
                if not isinstance(value, list):
                    fail(f"{where}.{name}", "a list of numbers", value)
                for i, v in enumerate(value):
                    number(f"{where}.{name}[{i}]", v)
            else:
                number(f"{where}.{name}", value)

    for key in ("metrics", "qids", "systems"):
        if not isinstance(d[key], list):
            fail(key, "a list", d[key])
    for i, name in enumerate(d["metrics"]):
        if not isinstance(name, str):
            fail(f"metrics[{i}]", "a metric name", name)
    for i, system in enumerate(d["systems"]):
        where = f"systems[{i}]"
        if not isinstance(system, Mapping):
            fail(where, "an object", system)
        if not isinstance(system.get("name"), str):
            fail(f"{where}.name", "a string", system.get("name"))
        for key, lists in (("per_query", True), ("mean", False), ("std", False)):
            if system.get(key) is not None:  # absent or null: nothing recorded (a std of one fold)
                numbers(f"{where}.{key}", system[key], lists=lists)
        folds = system.get("folds", [])
        if not isinstance(folds, list):
            fail(f"{where}.folds", "a list", folds)
        for j, fold in enumerate(folds):
            if not isinstance(fold, Mapping):
                fail(f"{where}.folds[{j}]", "an object", fold)
            for key, lists in (("metrics", False), ("per_query", True)):
                if fold.get(key) is not None:
                    numbers(f"{where}.folds[{j}].{key}", fold[key], lists=lists)
            for key in ("test_label_digests", "test_judgment_digests"):
                digests = fold.get(key, [])
                if not isinstance(digests, list) or not all(isinstance(v, str) for v in digests):
                    fail(f"{where}.folds[{j}].{key}", "a list of strings", digests)
            # one value per test query of the fold: compare pairs the values with these qids in order, so one value
            # moved between folds paired every later query with another's value, silently (trial t58)
            qids = fold.get("qids", [])
            for key in ("qids", "test_sizes"):
                if not isinstance(fold.get(key, []), list):  # (len() of a number failed, naming nothing)
                    fail(f"{where}.folds[{j}].{key}", "a list", fold.get(key))
            for key, values in [*((f"per_query.{m}", v) for m, v in (fold.get("per_query") or {}).items()),
                                *((k, fold.get(k) or []) for k in ("test_sizes", "test_label_digests",
                                                                   "test_judgment_digests"))]:
                if (values or key.startswith("per_query")) and len(values) != len(qids):
                    raise ValueError(f"{where}.folds[{j}].{key} has {len(values)} values for the fold's {len(qids)} "
                                     "qids")
        for metric, values in (system.get("per_query") or {}).items():  # one value per query of the result
            if len(values) != len(d["qids"]):
                raise ValueError(f"{where}.per_query.{metric} has {len(values)} values for the result's "
                                 f"{len(d['qids'])} qids")
    names = [s["name"] for s in d["systems"]]
    if d.get("baseline") is not None and d["baseline"] not in names:  # (a report crashed in its figures: t54)
        raise ValueError(f"baseline {json.dumps(d['baseline'])[:40]} names none of the result's systems "
                         f"({', '.join(names[:5])})")


def label_digests(data) -> tuple[list[str], list[str]]:
    """Short digests of each query's judgments in ``data`` (a :class:`~ltr.datasets.RankingDataset`): of its labels
    as a multiset (whatever the rows' order), and of its (document id, label) pairs (empty when the data has no
    document ids). Two results' digests of a query differ when it was judged otherwise (relabelled, or labels moved
    between queries; with document ids, between documents too), which the label counts of a fold cannot tell apart
    when the folds differ (trial t52); the same data in another row order, or read with and without its ids, keeps
    the label digests alike."""
    import hashlib

    def digest(obj) -> str:
        return hashlib.sha256(json.dumps(obj).encode()).hexdigest()[:12]

    labels, judgments = [], []
    ptr = np.asarray(data.group_ptr)
    y = np.asarray(data.y, dtype=np.float64)
    docs = data.doc_ids
    for a, b in zip(ptr[:-1].tolist(), ptr[1:].tolist()):
        grades = [float(v) for v in y[a:b]]
        labels.append(digest(sorted(grades)))
        if docs is not None:
            judgments.append(digest(sorted(zip([str(d) for d in docs[a:b]], grades))))
    return labels, judgments


def read_result(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a result file written by :func:`write_result`."""
    from ltr.io.files import not_found

    path = Path(path)
    if not path.exists():
        raise not_found(path, "result file")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not a result file")
    from ltr.io.files import read_bytes

    raw = read_bytes(path, what="result file")  # (decompressed: a result written as cv.json.xz, say, by its suffix)
    try:
        text = raw.decode("utf-8")
        d = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        first = next((line.split() for line in text.splitlines() if line.strip()), []) if isinstance(
            e, json.JSONDecodeError) else []
        if len(first) == 6 and first[1].upper() == "Q0":  # qid Q0 docno rank score tag
            raise ValueError(f"{path}: a TREC run, not a result file (the --out of ltr cv, ltr compare or ltr tune); "
                             "judge it first: ltr compare --qrels QRELS RUN ... --out RESULT.json") from None
        raise ValueError(f"{path}: not a JSON result file ({e})") from e
    try:
        check_result(d)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return d


def is_result_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is a JSON file that declares this result format (read from its first bytes only)."""
    head = _head(path)
    return head.lstrip().startswith(b"{") and b'"format"' in head and RESULT_FORMAT.encode() in head


def _head(path: str | os.PathLike) -> bytes:
    """A file's first 512 bytes (empty for a path that is no readable file), where a result declares its format."""
    if not Path(path).is_file():
        return b""
    try:
        with open(path, "rb") as f:
            return f.read(512)
    except OSError:
        return b""


def result_version(path: str | os.PathLike, *, any_format: bool = False) -> str | None:
    """The ``"format"`` a JSON file declares in its first bytes when it is an ltrkit result's of any version
    (``ltrkit-result/N``), else None; with ``any_format``, whatever format it declares there (another tool's)."""
    import re

    m = re.search(rb'"format"\s*:\s*"(' + (rb'[^"]*' if any_format else rb'ltrkit-result/[^"]*') + rb')"', _head(path))
    return m.group(1).decode("utf-8", "replace") if m else None
