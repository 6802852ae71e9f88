"""The export formats, one entry each, and :func:`export`, which checks a request and hands it to the format."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ltr.export import es_ranklib, es_xgboost, linear, solr
from ltr.export._context import Context
from ltr.export._plan import deepest, plan_trees
from ltr.export._source import Source, resolve
from ltr.export.errors import ExportError, ExportOptionError
from ltr.export.featureset import feature_set_definition

__all__ = ["FORMATS", "MISSING", "Export", "Format", "did_you_mean", "export"]

#: How a missing feature value is sent: where the model sends NaN, or where it sends 0, or "auto" (module-level
#: :func:`export`: 0's way for a model trained on ``ltr features`` output without missing values, else NaN's).
MISSING = ("auto", "nan", "zero")
_INEXACT = ("refuse", "nearest")


#: The start of the note that a subset model's RankLib ids are positions in its own feature set: created on
#: another set (the training file's), the model scores wrong, so ltr export says it under --quiet too.
RANKLIB_POSITIONS = "es-ranklib: RankLib's feature ids are positions"


@dataclass(frozen=True)
class Format:
    """A target format: which models it takes (``kind``), which engine (``family``), and its writer."""

    kind: str
    family: str
    description: str
    write: Callable[[Source, Context], str]


def _trees(module) -> Callable[[Source, Context], str]:
    def write(src: Source, ctx: Context) -> str:
        plan = plan_trees(src.ensemble, src.n_trees, src.normalizer, fmt=ctx.fmt, names=ctx.names)
        limit = getattr(module, "MAX_DEPTH", None)
        if limit is not None:
            t, depth = deepest(plan)
            if depth > limit:
                raise ExportError(f"{ctx.fmt}: tree {t} is {depth} levels deep, over the {limit} this format "
                                  f"exports: {module.NESTING}; train with a max_depth")
        return module.render(plan, ctx)
    return write


FORMATS: Mapping[str, Format] = {
    "es-xgboost": Format("trees", "es", "Elasticsearch/OpenSearch LTR plugin, model/xgboost+json",
                         _trees(es_xgboost)),
    "es-ranklib": Format("trees", "es", "Elasticsearch/OpenSearch LTR plugin, model/ranklib (LambdaMART text)",
                         _trees(es_ranklib)),
    "solr": Format("trees", "solr", "Solr LTR MultipleAdditiveTreesModel (Solr 9.2+)", _trees(solr)),
    "es-linear": Format("linear", "es", "Elasticsearch/OpenSearch LTR plugin, model/linear",
                        lambda src, ctx: linear.render_es(src.linear, src.normalizer, ctx)),
    "solr-linear": Format("linear", "solr", "Solr LTR LinearModel",
                          lambda src, ctx: linear.render_solr(src.linear, src.normalizer, ctx)),
}


def did_you_mean(name: object) -> str:
    """`` (did you mean 'es-xgboost'?)`` for a format name that is not known but close to one (``xgboost``,
    ``es-xgb``, ``ES-XGBOOST``), as an unknown metric's message says; ``""`` when none is close.

    Examples
    --------
    >>> did_you_mean("xgboost"), did_you_mean("vespa")
    (" (did you mean 'es-xgboost'?)", '')
    """
    import difflib

    close = difflib.get_close_matches(str(name).lower(), sorted(FORMATS), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


@dataclass(frozen=True)
class Export:
    """An exported model: the file's ``text``, the engine's feature set it refers to (``feature_names``, in order),
    and ``notes`` on what was written (a base-score tree, thresholds Solr could not hold exactly, ...)."""

    format: str
    text: str
    feature_names: tuple[str, ...]
    notes: tuple[str, ...] = ()
    store: str = "ltrkit"
    description: dict | None = field(default=None, repr=False)
    unused: tuple[str, ...] = ()
    """Features of the feature set no split (no non-zero weight) of the model reads: its scores do not depend on
    them (a distilled student's teacher column, features the trees never chose)."""
    missing: str = "nan"
    """Where the model sends a feature the engine has no value for ("nan" or "zero", ``missing="auto"`` resolved)."""
    targeted: bool = False
    """Exported against the engine's existing feature set (``target_features``): it has its definitions already."""

    @property
    def family(self) -> str:
        """"es" or "solr": the engine whose feature set the model refers to."""
        return FORMATS[self.format].family

    def write(self, path: str | os.PathLike) -> None:
        """Write :attr:`text` to ``path`` atomically (``-``: standard output)."""
        from ltr.io import atomic_write

        with atomic_write(path) as f:
            f.write(self.text)

    def feature_set(self) -> tuple[str, list[str]]:
        """The feature-set definition the engine needs for this model (JSON text) and notes on it
        (:func:`ltr.export.featureset.feature_set_definition`).

        Raises
        ------
        ExportError
            For a model exported against ``target_features``: the engine has that set, with its own queries, and a
            new definition of it would replace them (in Solr, for every model that uses the store).
        """
        if self.targeted:
            raise ExportError("the model was exported against the engine's existing feature set (target_features): "
                              "it has its definitions; writing the set again would replace its queries with "
                              "templates", cli="--feature-set-out with --target-features: the engine has that "
                              "feature set and its queries already; writing it again would replace them with "
                              "templates: leave --feature-set-out out")
        return feature_set_definition(self.feature_names, self.family, description=self.description,
                                      name=self.store, unused=self.unused, missing=self.missing)


#: Characters an exported model's or store's name may not hold.
_NOT_IN_NAMES = '/\\"*?<>| ,#'


#: Solr's store for features and models that name none; a store may have the name ("_" leads no other name).
SOLR_DEFAULT_STORE = "_DEFAULT_"


def _not_in_names(c: str) -> bool:
    """A character a model's or store's name cannot hold: it is a path part of the plugin's URL and a value of
    Solr's ``{!ltr model=...}`` local parameters (a tab or newline was taken, trial t56)."""
    return c in _NOT_IN_NAMES or c.isspace() or not c.isprintable()


def _check_name(value: Any, what: str) -> str:
    if what == "store" and value == SOLR_DEFAULT_STORE:
        return value
    if not isinstance(value, str) or not value or any(_not_in_names(c) for c in value) or value.startswith(
            ("_", "-")) or value in (".", ".."):  # whitespace splits Solr's {!ltr model=...}; '..' a URL's path
        rule = ("a plain name (no space or other whitespace or control character, none of , \" / \\ * ? < > | #, "
                "no leading '_' or '-', not '.' or '..')")
        bad = next((c for c in value if _not_in_names(c)), None) if isinstance(value, str) else None
        why = "" if bad is None else " (it has a space)" if bad == " " else f" (it has {bad!r})"
        raise ExportOptionError(f"{what} must be {rule}, got {value!r}{why}",
                                cli=f"--{what} {value!r}: must be {rule}{why}")
    return value


def _target(src: Source, used: Sequence[int], target_features: Sequence[str] | None, fmt: str) -> tuple[str, ...]:
    if target_features is None:
        return src.feature_names
    target = tuple(str(s) for s in target_features)
    if len(set(target)) != len(target):
        dup = next(s for s in target if target.count(s) > 1)
        raise ExportError(f"target_features: {dup!r} is listed twice",
                          cli=f"--target-features: {dup!r} is listed twice")
    have = set(target)
    missing = [src.feature_names[j] for j in used if src.feature_names[j] not in have]
    if missing:
        raise ExportError(
            f"{fmt}: the model uses {_features(missing)}, which the target feature set lacks; the set has "
            f"{len(target)}: "
            f"{', '.join(target[:5])}{', ...' if len(target) > 5 else ''}")
    return target


def _features(names: Sequence[str], most: int = 10) -> str:
    """``feature 'a'``, ``features 'a', 'b'``, or the first ``most`` of them and how many more: every one a user
    has to add, where one and a count of the others made a run per name (trial t70)."""
    shown = ", ".join(map(repr, names[:most])) + (f" and {len(names) - most} more" if len(names) > most else "")
    return f"feature{'s' if len(names) > 1 else ''} {shown}"


_LINEAR_NAN = ("{}: a linear model has no missing direction: it weighs every feature, and ltrkit refuses a missing "
               "(NaN) value for it in training and prediction, so a feature the engine has no value for is 0 "
               "(Solr's defaultValue, the plugin's unmatched feature); {}")


def export(model: Any, format: str, *, feature_names: Sequence[str] | None = None,
           target_features: Sequence[str] | None = None, missing: str = "auto", inexact: str = "refuse",
           name: str = "ltrkit", store: str | None = None) -> Export:
    """Export ``model`` to a search engine's format, exactly or not at all.

    Parameters
    ----------
    model : str, PathLike, ltr.Ranker, ltr.trees.TreeEnsemble, LinearModel or engine booster
        A saved model (path), a fitted or loaded ranker (its best rounds and normaliser are exported), a tree
        ensemble (all its trees), an engine booster (the rounds its ``predict()`` uses: LightGBM's best iteration,
        XGBoost's every round, each with a note where early stopping recorded one), or a linear model.
    format : str
        One of :data:`FORMATS`: ``es-xgboost``, ``es-ranklib``, ``solr`` (trees), ``es-linear``, ``solr-linear``.
    feature_names : sequence of str, optional
        The features' names in column order, when the model does not name them (it must not name them otherwise).
        A model trained on a feature subset of a file without names (``ltr train --features``; ltrkit names its
        columns by their ids) takes the whole file's names (id ``k``: name ``k``) or its own columns' names.
    target_features : sequence of str, optional
        The engine's existing feature set, in its order (RankLib's feature ids and the plugin's feature ordinals are
        positions in it); every feature the model uses must be in it. Default: the model's own features. For a
        subset model named by its ids, a set as wide as its file names id ``k`` by the set's ``k``-th feature.
    missing : {"auto", "nan", "zero"}, default="auto"
        Where a missing value (the plugin's NaN for a feature that does not match; Solr's NaN default value) goes:
        where the model sends NaN, or where it sends 0 (for models whose features are 0 when absent, as ltrkit's).
        ``"auto"``: ``"zero"`` for a model trained on ``ltr features`` output read without missing values (its
        features were 0 where a query did not match; XGBoost's NaN branch of such a model was never trained and
        sent 20% of Cranfield's rows elsewhere), else ``"nan"``. With ``"nan"``, the Solr feature store gives
        every feature ``defaultValue`` NaN, without which Solr scores a non-matching feature as 0. A linear model
        has no missing direction (ltrkit refuses NaN for it): ``"auto"`` is ``"zero"`` (Solr's own default value
        0, no NaN that would make the whole score NaN) and ``"nan"`` is refused.
    inexact : {"refuse", "nearest"}, default="refuse"
        A threshold Solr cannot hold exactly (near zero, or just inside a negative power of two: see
        :mod:`ltr.export.solr`): refuse, or take the nearest one and list in the notes the values that go the other
        way.
    name, store : str
        The model's name in the engine, and its feature set's (Solr: feature store's) name (default: ``name``).

    Returns
    -------
    Export
        The file's text, the feature set it refers to, and notes.

    Raises
    ------
    ExportError
        An unknown format (the message lists the known ones), a model the format cannot express (named: a
        per-query normaliser, a LightGBM zero-as-missing split, a threshold Solr cannot hold, a tree model to a
        linear format or the reverse, missing values RankLib cannot tell from 0), feature names missing or wrong, a
        feature the target feature set lacks.
    ModelFormatError
        A model ``ltr.trees`` cannot read or refuses (a malformed file, categorical splits, linear trees, several
        outputs), named by file and line or JSON path, tree, node and feature; ``ExportError`` does not catch it,
        ``ValueError`` catches both.

    Examples
    --------
    >>> import numpy as np
    >>> from ltr.trees import TreeEnsemble
    >>> stump = TreeEnsemble(engine="lightgbm", n_features=1, tree_ptr=[0, 1], leaf_ptr=[0, 2], feature=[0],
    ...                      threshold=[0.5], left=[-1], right=[-2], default_left=[True], missing_type=[0],
    ...                      leaf_value=[-1.0, 2.0])
    >>> out = export(stump, "es-xgboost", feature_names=["bm25:title"])
    >>> import json
    >>> node = json.loads(out.text)["model"]["model"]["definition"][0]
    >>> node["split"], node["split_condition"]  # x <= 0.5 goes left: x < the float32 just above 0.5
    ('bm25:title', 0.5000000596046448)
    """
    if format not in FORMATS:
        raise ExportOptionError(f"unknown export format {format!r}{did_you_mean(format)}; known formats: "
                                f"{', '.join(sorted(FORMATS))}")
    if missing not in MISSING:
        raise ExportOptionError(f"missing must be one of {MISSING}, got {missing!r}")
    if inexact not in _INEXACT:
        raise ExportOptionError(f"inexact must be one of {_INEXACT}, got {inexact!r}")
    name = _check_name(name, "name")
    store = _check_name(name if store is None else store, "store")
    fmt = FORMATS[format]

    def takes(src: Source) -> None:
        if src.kind != fmt.kind:
            other = sorted(f for f, spec in FORMATS.items() if spec.kind == src.kind and spec.family == fmt.family)
            raise ExportError(f"{format} takes {'tree ensembles' if fmt.kind == 'trees' else 'linear models'}, and "
                              f"this is a {'linear model' if src.kind == 'linear' else 'tree ensemble'}; use "
                              f"{' or '.join(other)}")

    src = resolve(model, feature_names, check=takes)
    if target_features is not None and feature_names is None and src.named_by_ids and len(target_features) == \
            src.width:  # a subset model of an unnamed file: its ids are positions in the engine's whole set
        src = src.with_file_names(target_features)
    if src.kind == "trees":
        used = sorted({int(f) for f in src.ensemble.feature[:int(src.ensemble.tree_ptr[src.n_trees])]})
    else:
        used = [j for j, w in enumerate(src.linear.weights) if w != 0]
    target = _target(src, used, target_features, format)
    chosen = missing
    if src.kind == "linear":  # no missing direction: Solr's defaultValue 0 and the plugin's 0 are what it scores
        if missing == "nan":
            raise ExportError(_LINEAR_NAN.format("missing='nan'", "leave missing at 'auto' (or 'zero')"),
                              cli=_LINEAR_NAN.format("--missing nan", "leave --missing out (or pass zero)"))
        missing = "zero"
    elif missing == "auto":
        missing = "zero" if src.zero_when_absent else "nan"
    ctx = Context(format, src.feature_names, target, missing=missing, inexact=inexact, name=name, store=store,
                  targeted=target_features is not None)
    ctx.notes.extend(src.said)
    if chosen == "auto" and missing == "zero" and src.kind == "trees":
        ctx.notes.append("missing values go where 0 goes (missing='zero', --missing zero): the model was trained on "
                         "ltr features output, which has no missing values (its BM25 and term-count features are 0 "
                         "where a document does not match); pass missing='nan' (--missing nan) for features that "
                         "were missing (NaN) in training")
    if format == "es-ranklib" and target_features is None and src.ids is not None \
            and list(src.ids) != list(range(1, len(src.ids) + 1)):  # RankLib's -feature keeps the file's ids
        shown = ", ".join(map(str, src.ids[:4])) + (", ..." if len(src.ids) > 4 else "")
        ctx.notes.append(f"{RANKLIB_POSITIONS} in the feature set the model is created "
                         f"on, here the model's own {len(target)} features (ids 1-{len(target)}), not the ids of the "
                         f"file it was trained on ({shown}): create it on that set (Export.feature_set(), "
                         "--feature-set-out), or pass the engine's existing set (target_features, --target-features) "
                         "to number them by it")
    text = fmt.write(src, ctx)
    read = {src.feature_names[j] for j in used}
    return Export(format, text, target, tuple(ctx.notes), store, src.feature_set,
                  tuple(n for n in target if n not in read), missing, target_features is not None)
