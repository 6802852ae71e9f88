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
            Ranker(n_estimators=50).set_fit_request(qid=True),
            {"num_leaves": [7, 31], "learning_rate": [0.05, 0.1]},
            scoring=ndcg_scorer(10),
            cv=GroupKFold(n_splits=5),      # folds of whole queries
        )
        search.fit(X, y, qid=qid, groups=qid)

Rows must be sorted by query (as in a LETOR file); ``GroupKFold`` keeps the row order inside each part, so every
query stays contiguous. The scorer requests ``qid`` by itself (no ``set_score_request`` needed); without routing
enabled it never receives it and says so.
"""

from __future__ import annotations

import inspect
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

        self.metric = parse_metric(metric).name
        self.gain = gain
        self.no_relevant = no_relevant

    def __call__(self, estimator, X, y, qid: ArrayLike | None = None, group: ArrayLike | None = None,
                 **kwargs: Any) -> float:
        from ltr.metrics import evaluate

        if qid is None and group is None:
            raise ValueError(
                f"the {self.metric} scorer got no query ids: enable scikit-learn's metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True) or sklearn.config_context(...)) and pass qid= to "
                "fit; see ltr.evaluation.scoring"
            )
        predict = estimator.predict
        try:
            wants_qid = "qid" in inspect.signature(predict).parameters
        except (TypeError, ValueError):
            wants_qid = False
        scores = predict(X, qid=qid) if (wants_qid and qid is not None) else predict(X)
        value = evaluate(y, scores, qid=qid, group=group, metrics=[self.metric], gain=self.gain,
                         no_relevant=self.no_relevant)[self.metric]
        return float(value)

    def get_metadata_routing(self):
        """Request ``qid`` for ``score``, so that meta-estimators route it here."""
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="qid", alias=True)
        return request

    def __repr__(self) -> str:
        return f"QueryScorer({self.metric!r}, gain={self.gain!r}, no_relevant={self.no_relevant!r})"


def ndcg_scorer(k: int = 10, *, gain: str = "exp2", no_relevant: float = 0.0) -> QueryScorer:
    """Mean NDCG@k over queries as a scikit-learn scorer (greater is better); see the module for routing.

    Examples
    --------
    >>> ndcg_scorer(5)
    QueryScorer('ndcg@5', gain='exp2', no_relevant=0.0)
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return QueryScorer(f"ndcg@{k}", gain=gain, no_relevant=no_relevant)
