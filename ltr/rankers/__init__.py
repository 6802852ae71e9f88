"""Scikit-learn-style rankers over LightGBM and XGBoost (the engines are imported only when a model trains)."""

from ltr.rankers.ranker import Ranker, load_model

__all__ = ["Ranker", "load_model"]
