"""What an export starts from: a model (a saved file, a ``Ranker``, a tree ensemble, an engine booster or a linear
model) reduced to its trees or weights, the rounds it predicts with, its normaliser and its feature names."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ltr.export.errors import ExportError

__all__ = ["Source", "resolve"]

_LIGHTGBM_DEFAULT_NAME = re.compile(r"Column_(\d+)")


@dataclass(frozen=True)
class Source:
    """``kind`` "trees" (``ensemble``, of which the first ``n_trees`` trees predict) or "linear" (``linear``, a
    :class:`ltr.rankers.linear.LinearModel`); ``normalizer``: the fitted normaliser applied first, or None."""

    kind: str
    n_features: int
    feature_names: tuple[str, ...] | None
    normalizer: Any = None
    ensemble: Any = None
    n_trees: int = 0
    linear: Any = None
    feature_set: dict | None = None
    origin: str = "model"
    zero_when_absent: bool = False
    """Trained on ``ltr features`` output read without a missing value: every feature was a number, 0 where a
    document did not match (BM25 and the other text features), so an engine's "no value" stands for 0."""
    said: tuple[str, ...] = ()
    """Notes on what was taken from the model (an engine booster's best iteration)."""
    ids: tuple[int, ...] | None = None
    """A model trained on a feature subset (``ltr train --features``): the 1-based ids of its columns in the file it
    was trained on, which is ``width`` columns wide."""
    width: int | None = None

    @property
    def named_by_ids(self) -> bool:
        """Whether the feature names are the subset's ids, which ltrkit gave the columns of a file without names
        (``"1"``, ``"3"``, ...): no one chose them, and names of the whole file map onto them, id ``k`` to name
        ``k``."""
        return self.ids is not None and self.feature_names == tuple(str(i) for i in self.ids)

    def with_file_names(self, names: Sequence[str]) -> Source:
        """This source named by the names of the whole file its subset's ids refer to (id ``k``: ``names[k-1]``)."""
        return replace(self, feature_names=tuple(str(names[i - 1]) for i in self.ids))


def _names(raw) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names = tuple(str(s) for s in raw)
    # LightGBM names unnamed columns Column_0, Column_1, ...: such names say nothing about the features.
    if all(_LIGHTGBM_DEFAULT_NAME.fullmatch(s) and int(s[7:]) == j for j, s in enumerate(names)):
        return None
    return names


def _normalizer(spec, origin: str):
    if spec is None:
        return None
    from ltr.rankers.normalize import normalizer_from_dict

    norm = normalizer_from_dict(spec) if isinstance(spec, dict) else spec
    if getattr(norm, "needs_groups", False):
        raise ExportError(
            f"{origin}: the model normalises its features per query ({norm.method!r}), from all the candidates of "
            "a query at once; a search engine scores each document on its own, so no exported model can reproduce "
            "it: retrain with a global normaliser ('global-zscore', 'global-minmax') or none")
    if not hasattr(norm, "offset_"):
        raise ExportError(f"{origin}: the model's global normaliser is not fitted (no offsets and scales)")
    return norm


def _from_ranker(model, origin: str) -> Source:
    if not hasattr(model, "booster_"):
        raise ExportError(f"{origin}: the Ranker is not fitted: fit it or load a saved model first")
    try:
        model._check_fitted()  # an engine set after fit: the model is the one it was fitted with
    except ValueError as e:
        raise ExportError(f"{origin}: {e}") from None
    names = _names(getattr(model, "feature_names_in_", None))
    norm = _normalizer(getattr(model, "normalizer_", None), origin)
    fs = getattr(model, "feature_set_", None)
    options = getattr(model, "read_options_", None) or {}
    made_nan = (str(options.get("missing", 0.0)).lower() == "nan" or options.get("null") == "nan"
                or options.get("nonfinite") == "allow" or bool(options.get("sparse")))
    zero = fs is not None and not made_nan
    from ltr.evaluation.selection import recorded_features

    recorded = recorded_features(model, name=origin, error=ExportError)
    ids, width = (None, None) if recorded is None else (tuple(recorded[0]), recorded[1])
    if model.engine == "linear":
        return Source("linear", int(model.n_features_in_), names, norm, linear=model.booster_, feature_set=fs,
                      origin=origin, zero_when_absent=zero, ids=ids, width=width)
    from ltr.trees import from_booster

    ens = from_booster(model.booster_)
    n_trees = int(model.best_iteration_) * ens.trees_per_iteration
    return Source("trees", ens.n_features, names, norm, ensemble=ens, n_trees=min(n_trees, ens.n_trees),
                  feature_set=fs, origin=origin, zero_when_absent=zero, ids=ids, width=width)


def _booster_rounds(booster, ens) -> tuple[int, tuple[str, ...]]:
    """The trees of an engine booster that its own ``predict()`` uses, and a note where early stopping recorded a
    best iteration: LightGBM's ``Booster.predict`` uses its first ``best_iteration`` rounds (so does its
    ``save_model``); XGBoost's ``Booster.predict`` uses every round, whatever ``best_iteration`` says."""
    if hasattr(booster, "model_to_string"):
        best = int(getattr(booster, "best_iteration", 0) or 0)
        if 0 < best and best * ens.trees_per_iteration < ens.n_trees:
            return best * ens.trees_per_iteration, (
                f"the booster's best_iteration {best} (early stopping): its first {best} rounds are exported, "
                f"of {ens.n_trees // ens.trees_per_iteration}, as its predict() uses them",)
        return ens.n_trees, ()
    try:
        best = int(booster.best_iteration)  # set by early stopping only (an AttributeError otherwise)
    except (AttributeError, TypeError, ValueError):
        return ens.n_trees, ()
    if (best + 1) * ens.trees_per_iteration < ens.n_trees:
        return ens.n_trees, (f"the booster's best_iteration {best} (early stopping) is not used: every round is "
                             "exported, as Booster.predict uses them (the scikit-learn estimators use the first "
                             f"{best + 1} rounds; pass booster[:{best + 1}] for those)",)
    return ens.n_trees, ()


def _source(model: Any) -> Source:
    """The :class:`Source` of ``model`` as it names its features itself (a path: the model saved there)."""
    from ltr.rankers.linear import LinearModel
    from ltr.trees import TreeEnsemble, from_booster

    origin = "model"
    if isinstance(model, (str, os.PathLike)):
        from ltr.rankers import load_model

        origin = str(model)
        model = load_model(model)
    if isinstance(model, TreeEnsemble):
        src = Source("trees", model.n_features, _names(model.feature_names), ensemble=model, n_trees=model.n_trees,
                     origin=model.source or origin)
    elif isinstance(model, LinearModel):
        src = Source("linear", model.n_features, None, _normalizer(model.normalizer, origin), linear=model,
                     origin=origin)
    elif hasattr(model, "booster_") and hasattr(model, "engine"):  # ltr.Ranker, fitted or loaded
        src = _from_ranker(model, origin)
    elif hasattr(model, "model_to_string") or hasattr(model, "save_raw"):  # a LightGBM or XGBoost booster
        import warnings

        with warnings.catch_warnings():  # its advice is for TreeEnsemble.predict; the export says what it takes
            warnings.filterwarnings("ignore", message=r"the \w+ booster was early-stopped", category=UserWarning)
            ens = from_booster(model)
        n_trees, said = _booster_rounds(model, ens)
        src = Source("trees", ens.n_features, _names(ens.feature_names), ensemble=ens, n_trees=n_trees, said=said)
    else:
        wrapped = (" (a scikit-learn estimator of the engines: pass its booster, LGBMRanker.booster_ or "
                   "XGBRanker.get_booster())" if hasattr(model, "booster_") or hasattr(model, "get_booster") else "")
        raise TypeError(f"model must be a saved model's path, an ltr.Ranker, an ltr.trees.TreeEnsemble, a LinearModel "
                        f"or a LightGBM / XGBoost booster, got {type(model).__name__}{wrapped}")
    return src


def resolve(model: Any, feature_names: Sequence[str] | None = None, *,
            check: Callable[[Source], None] | None = None) -> Source:
    """The :class:`Source` of ``model`` with its feature names checked (``feature_names`` when the model has none);
    ``check`` sees the source before its names are (a format that does not take the model's kind says so before
    asking for names it would not use: trial t72).

    Raises
    ------
    ExportError
        No feature names, names that differ from the model's own, a wrong count, duplicates, a per-query normaliser.
    TypeError
        ``model`` is none of the accepted kinds.
    """
    from ltr.trees.refusal import SplitRefusal

    try:
        src = _source(model)
    except SplitRefusal as e:  # named by the model's placeholders (LightGBM's Column_5) or its columns: by the user's
        raise e.named(feature_names) from None
    if check is not None:
        check(src)
    names = src.feature_names
    if feature_names is not None:
        given = tuple(str(s) for s in feature_names)
        if src.named_by_ids:  # names ltrkit made from a subset's ids: the whole file's names, or the subset's
            shown = ",".join(map(str, src.ids[:10])) + (",..." if len(src.ids) > 10 else "")
            if len(given) == src.width and len(given) != src.n_features:
                src = src.with_file_names(given)
                given = src.feature_names
            elif len(given) != src.n_features:
                why = (f"{len(given)} names for a model trained on features {shown} of a {src.width}-feature file "
                       f"(ltr train --features, a file without feature names); give the file's {src.width} names "
                       f"(id k takes name k) or the {src.n_features} features' names in that order")
                raise ExportError(f"feature_names: {why}", cli=f"--feature-names: {why}")
            names = None  # the ids were not names anyone gave
        if names is not None and given != names:
            j = next((i for i, (a, b) in enumerate(zip(given, names)) if a != b), min(len(given), len(names)))
            why = (f"the model already names its {len(names)} features and the names given differ (column {j} counting "
                   f"from 0: {names[j] if j < len(names) else None!r} in the model, "
                   f"{given[j] if j < len(given) else None!r} given)")
            raise ExportError(f"feature_names: {why}; leave feature_names out",
                              cli=f"--feature-names: {why}; leave --feature-names out")
        names = given
    if names is None:
        why = f"{src.origin}: the model does not name its features (it was trained on unnamed columns); pass "
        raise ExportError(why + f"feature_names= with its {src.n_features} names, in column order",
                          cli=why + f"--feature-names a,b,... (or @FILE, one per line) with its {src.n_features} "
                                    "names, in column order")

    def refuse(message: str) -> ExportError:
        return ExportError(f"feature_names: {message}", cli=f"--feature-names: {message}")

    if len(names) != src.n_features:
        raise refuse(f"{len(names)} name{'s' if len(names) != 1 else ''} for a model of {src.n_features} features")
    seen: set[str] = set()
    for s in names:
        if not s or s != s.strip():
            raise refuse(f"{s!r} is not a usable feature name (empty, or spaces at an end)")
        if s in seen:
            raise refuse(f"{s!r} is given twice; an engine's feature set names each feature once")
        seen.add(s)
    return replace(src, feature_names=names)
