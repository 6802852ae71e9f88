"""Ranking metrics as scikit-learn scorers, for ``GridSearchCV``, ``cross_val_score`` and friends.

A ranking metric needs to know which rows belong to which query. scikit-learn passes such per-row metadata with
*metadata routing* (scikit-learn >= 1.4): the estimator asks for ``qid`` in ``fit``, the scorer asks for it in
``score``, and the splitter gets ``groups``. With :class:`ltr.Ranker`::

    import sklearn
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from ltr import Ranker
    from ltr.evaluation import ndcg_scorer

    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            Ranker(n_estimators=50, preset=None).set_fit_request(qid=True),   # preset: see below
            {"num_leaves": [7, 31], "learning_rate": [0.05, 0.1]},
            scoring=ndcg_scorer(10),
            cv=GroupKFold(n_splits=5),      # folds of whole queries
        )
        search.fit(X, y, qid=qid, groups=qid)

Rows must be sorted by query (as in a LETOR file); ``GroupKFold`` keeps the row order inside each part, so every
query stays contiguous. Pass ``qid=`` (one id per row), never ``group=`` sizes: a splitter cuts rows, and sizes of
the whole data do not add up to a fold's rows. The scorer requests ``qid`` by itself (no ``set_score_request``
needed); without routing enabled it never receives it and says so.

Pass ``preset=None`` to a Ranker that a search tunes (or ``preset="small"`` with the searched parameters in
``preset_keep``). The default ``preset="auto"`` decides at each fit from that fit's number of queries
(:mod:`ltr.rankers.presets`): below 500 it trains the small-data preset, which replaces every tree parameter left at
its default value (``num_leaves``, ``learning_rate``, ``min_child_samples``, the sampling, L2, early stopping) and
cannot tell a grid's ``num_leaves=31`` from the default 31. Folds hold fewer queries than the whole data, so with
550 queries and 5 folds every cross-validated candidate (440 queries) is a preset model (``num_leaves=31`` trains 15
leaves) while the refit on all 550 queries is not: ``best_params_`` and its score would describe other models than
``best_estimator_``. The ``PresetWarning`` of each fold's fit is raised in ``GridSearchCV``'s worker processes when
``n_jobs`` > 1, and does not reach the caller.

A ``Pipeline`` whose Ranker needs ``qid`` to predict (``normalize="zscore"`` and the other per-query normalisers)
asks for it with ``set_predict_request(qid=True)`` on the Ranker: the scorer passes ``qid`` on to
``Pipeline.predict`` when routing is enabled and the pipeline requests it.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

from numpy.typing import ArrayLike

__all__ = ["QueryScorer", "ndcg_scorer"]


class QueryScorer:
    """A scikit-learn scorer ``scorer(estimator, X, y, qid=...)`` for any metric of :mod:`ltr.metrics`.

    Parameters
    ----------
    metric : str, default="ndcg@10"
    gain, no_relevant
        Metric conventions (:mod:`ltr.metrics`).

    Examples
    --------
    >>> import numpy as np
    >>> class FirstFeature:   # a stand-in ranker that scores by column 0
    ...     def predict(self, X):
    ...         return np.asarray(X)[:, 0]
    >>> X = np.array([[3.0], [2.0], [1.0], [1.0], [2.0]])
    >>> QueryScorer("mrr")(FirstFeature(), X, [0, 0, 1, 1, 0], qid=[1, 1, 1, 2, 2])   # (1/3 + 1/2) / 2
    0.41666666666666663
    """

    def __init__(self, metric: str = "ndcg@10", *, gain: str = "exp2", no_relevant: float = 0.0):
        from ltr.metrics import parse_metric
        from ltr.metrics.conventions import resolve_convention

        if isinstance(metric, str) and "," in metric:  # was "unknown metric 'ndcg@10,map'" (trial t72)
            raise ValueError(f"a scorer computes one metric, got {metric!r}: make one scorer per metric (scoring= "
                             "takes a dict of them, with refit= naming the one that chooses)")
        self.metric = parse_metric(metric).name
        # here, not once a fold has trained: a grid search scored every candidate nan and still chose one (t57, t72)
        if not isinstance(gain, str) or gain not in ("exp2", "linear"):
            raise ValueError(f"gain must be one of ['exp2', 'linear'], got {gain!r}")
        resolve_convention("default", no_relevant=no_relevant)
        self.gain = gain
        self.no_relevant = no_relevant

    def __call__(self, estimator, X, y, qid: ArrayLike | None = None, group: ArrayLike | None = None,
                 **kwargs: Any) -> float:
        from ltr.metrics import evaluate

        if qid is None and group is None:
            raise ValueError(self._no_query_ids())
        passes = qid is not None and _predict_takes_qid(estimator)
        try:
            scores = estimator.predict(X, qid=qid) if passes else estimator.predict(X)
        except ValueError as e:
            if qid is not None and not passes and _has_var_keyword(estimator.predict):
                add_note(e, f"the {self.metric} scorer had qid= but did not pass it to {type(estimator).__name__}."
                            "predict, which does not request it: with metadata routing enabled, call "
                            "set_predict_request(qid=True) on the step that needs it (e.g. a Ranker with normalize=)")
            raise
        value = evaluate(y, scores, qid=qid, group=group, metrics=[self.metric], gain=self.gain,
                         no_relevant=self.no_relevant)[self.metric]
        return float(value)

    def _no_query_ids(self) -> str:
        import sklearn

        if not sklearn.get_config().get("enable_metadata_routing", False):
            return (f"the {self.metric} scorer got no query ids: enable scikit-learn's metadata routing "
                    "(sklearn.set_config(enable_metadata_routing=True) or sklearn.config_context(...)) and pass qid= "
                    "to fit; see ltr.evaluation.scoring")
        return (f"the {self.metric} scorer got no query ids although metadata routing is enabled: the caller did not "
                "route qid= to it (pass qid=, one id per row, to the search's or cross_val_score's fit, not group= "
                "sizes; sklearn.inspection.permutation_importance routes none: use "
                "ltr.evaluation.permutation_importance, which shuffles within queries, or "
                "scoring=lambda est, X, y: scorer(est, X, y, qid=qid))")

    def get_metadata_routing(self):
        """Request ``qid`` for ``score``, so that meta-estimators route it here."""
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="qid", alias=True)
        return request

    def __repr__(self) -> str:
        return f"QueryScorer({self.metric!r}, gain={self.gain!r}, no_relevant={self.no_relevant!r})"


#: Whether exceptions take notes (Python 3.11+, PEP 678).
_NOTES = hasattr(BaseException, "add_note")


def add_note(e: BaseException, note: str) -> None:
    """``e.add_note(note)``; on Python 3.10, which has no notes, the note is appended to the message instead (its
    ``__notes__`` are kept too, for code that reads them)."""
    if _NOTES:
        e.add_note(note)
        return
    if e.args and isinstance(e.args[0], str):
        e.args = (f"{e.args[0]} ({note})", *e.args[1:])
    e.__notes__ = [*getattr(e, "__notes__", []), note]


def _has_var_keyword(function) -> bool:
    try:
        return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False


def _predict_takes_qid(estimator) -> bool:
    """Whether ``estimator.predict`` takes ``qid=``: by name (:class:`ltr.Ranker`), or through ``**params`` when
    scikit-learn's metadata routing is enabled and the estimator (a ``Pipeline``) requests ``qid`` for ``predict``."""
    try:
        parameters = inspect.signature(estimator.predict).parameters
    except (TypeError, ValueError):
        return False
    if "qid" in parameters:
        return True
    if not _has_var_keyword(estimator.predict):
        return False
    import sklearn

    if not sklearn.get_config().get("enable_metadata_routing", False):
        return False
    from sklearn.utils.metadata_routing import get_routing_for_object

    try:
        return bool(get_routing_for_object(estimator).consumes("predict", ["qid"]))
    except (AttributeError, TypeError, ValueError):
        return False


def ndcg_scorer(k: int = 10, *, gain: str = "exp2", no_relevant: float = 0.0) -> QueryScorer:
    """Mean NDCG@k over queries as a scikit-learn scorer (greater is better); see the module for routing.

    Examples
    --------
    >>> ndcg_scorer(5)
    QueryScorer('ndcg@5', gain='exp2', no_relevant=0.0)
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:  # np.int64 of a grid too
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return QueryScorer(f"ndcg@{int(k)}", gain=gain, no_relevant=no_relevant)
