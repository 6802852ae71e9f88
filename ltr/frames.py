"""A data frame's column names against a model's features: pandas' frames and other libraries' (a pyarrow Table, a
polars DataFrame), read by name where the engines read columns by position. Shared by the rankers, the tree scorer
(:mod:`ltr.trees`) and the reranker (:mod:`ltr.serve`), so that a frame one of them refuses another does not score
by position."""

from __future__ import annotations

# (the rule of a frame's names lives below the dataset record, which takes a frame's names too)
from ltr._dataset import (
    RankingDataset,
    frame_names,
    other_frame,
    placeholder_names,
    refuse_lazy_frame,
    unique_frame_names,
)
from ltr._stack import stacklevel_outside

__all__ = ["as_pandas", "check_frame_names", "frame_names", "other_frame", "unique_frame_names"]


def as_pandas(X):
    """``X`` as a pandas DataFrame when it is another library's frame (:func:`other_frame`), else as it is; a lazy
    frame is refused (:func:`~ltr._dataset.refuse_lazy_frame`)."""
    refuse_lazy_frame(X)
    return X.to_pandas() if other_frame(X) else X


def check_frame_names(X, names, what: str, lightgbm_spelling: bool = False, named: bool = False,
                      scope: str = "ltr.rankers", attribute: str = "feature_names_in_", as_text: bool = False) -> None:
    """A DataFrame scored or evaluated by a model whose features are named must have those columns, in that order
    (the engines read columns by position: a reordered frame was scored silently wrong), as scikit-learn and
    XGBoost refuse it. A :class:`~ltr.RankingDataset` whose features are the model's named features in another
    order is refused too; one whose names are others gets a warning (it is scored by position, as a narrower LETOR
    file is padded by position, so that the callers that know the file decide). Names that unnamed columns get
    (``f1..``, ``f0..``, ``Column_0..``) name nothing, and a frame is scored by position, unless ``named``: the model
    was fitted on a DataFrame, whose columns were its user's names, whatever they look like (a frame's own
    placeholder names are names like any other). Warnings point at the first caller outside the package ``scope``;
    messages name the model's ``attribute`` holding its names. ``as_text``: a frame's names are read as the engines
    store them, ``str(c)`` (``pd.DataFrame(X)``'s 0, 1, 2 are the model's '0', '1', '2'), where scikit-learn's rule
    reads only names that are all strings."""
    dataset = isinstance(X, RankingDataset)
    levels = 1 if dataset or other_frame(X) else getattr(getattr(X, "columns", None), "nlevels", 1)
    if levels > 1 and names is not None and (named or not placeholder_names([str(s) for s in names])):
        # a two-level header (pd.concat(..., keys=...), a pivot): tuples, no names to scikit-learn, so scored by
        # position where XGBoost refuses it (trial t60)
        raise ValueError(f"{what}'s columns have {levels} levels ({X.columns[0]!r}, ...), where the model's features "
                         f"are named: give a frame whose columns are its {attribute} (X.droplevel(0, axis=1) where "
                         "the last level holds them)")
    given = (None if X.feature_names is None else list(X.feature_names)) if dataset else frame_names(X)
    textual = False  # the names were read as text (not all strings): no names to scikit-learn
    if given is None and as_text and not dataset and getattr(X, "columns", None) is not None and len(X.columns):
        given, textual = [str(c) for c in X.columns], True
    if given is None or names is None:
        return
    names = [str(s) for s in names]
    if given == names:
        return
    if textual and sorted(given) != sorted(names):  # integer labels, not the model's own '0', '1', ...: no names, as
        # scikit-learn and ltr.load_model read them, scored by position (ltr.trees refused pd.DataFrame(X) for a
        # model fitted on a frame of names; review of trial t59)
        if named:
            import warnings

            warnings.warn(f"{what} does not have valid feature names, but the model was fitted with feature names: "
                          "scored by column position", UserWarning, stacklevel=stacklevel_outside(scope))
        return
    spelt = [c.replace(" ", "_") for c in given] if lightgbm_spelling else given  # LightGBM saved 'my feat' my_feat
    if sorted(given) == sorted(names) or (spelt != names and sorted(spelt) == sorted(names)):
        j = next(i for i, (a, b) in enumerate(zip(spelt, names)) if a != b)
        how = (f"reorder its columns and feature_names to the model's {attribute}" if dataset else
               f"select them in the model's order: X[model.{attribute}]")
        raise ValueError(f"{what}'s columns are the model's features in another order (column {j} counting from 0: "
                         f"{given[j]!r}, the model's {names[j]!r}); {how}")
    if dataset:  # other names: a LETOR file's sidecar may name fewer columns (a narrower file, padded by position)
        n = min(len(given), len(names))
        positional = placeholder_names(given) or placeholder_names(names)  # f1.., f0.., Column_0..: no names
        if given[:n] != names[:n] and not positional:  # other columns, not a narrower copy: say so, score by position
            import warnings

            j = next(i for i in range(n) if given[i] != names[i])
            whose = "the training data's" if what.startswith("eval_set") else "the model's"
            warnings.warn(f"{what}'s feature names differ from {whose} (column {j} counting from 0: "
                          f"{given[j]!r}, {whose} {names[j]!r}): scored by column position, as the engines read "
                          f"columns; give it {whose} features in their order", UserWarning,
                          stacklevel=stacklevel_outside(scope))
        return
    if lightgbm_spelling and [c.replace(" ", "_") for c in given] == names:  # LightGBM saved 'my feat' as my_feat
        return
    if placeholder_names(names) and len(given) == len(names) and not named:
        # the model's columns were unnamed (LightGBM's Column_0.., XGBoost's f0..): by position, as the engines
        # score a frame, with scikit-learn's warning for a frame given to a model fitted without names (not for a
        # frame of unnamed columns, pd.DataFrame(X)'s 0, 1, ...: neither has names)
        if textual:
            return
        import warnings

        warnings.warn(f"{what} has feature names, but the model was fitted without feature names (its columns "
                      f"are {names[0]}, {names[1] if len(names) > 1 else ''}...): scored by column position",
                      UserWarning, stacklevel=stacklevel_outside(scope))
        return
    unknown = [c for c in given if c not in set(names)]
    absent = [c for c in names if c not in set(given)]
    said = "; ".join(part for part in (f"not in the model: {unknown[:3]}" if unknown else "",
                                       f"missing: {absent[:3]}" if absent else "") if part)  # ('missing: []': t72)
    raise ValueError(f"{what}'s column names differ from the model's features ({len(given)} columns, "
                     f"{len(names)} features; {said})")
