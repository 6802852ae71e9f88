"""``es-linear`` and ``solr-linear``: the toolkit's linear models (``Ranker(engine="linear")``) as the engines'
linear models.

Defined by the engines' source:

* Elasticsearch / OpenSearch LTR plugin ``model/linear`` (``ranker/parser/LinearRankerParser.java``,
  ``ranker/linear/LinearRanker.java``): the definition maps feature names to weights (JSON numbers, read as
  float); ``score += weight * value`` in float32 over the feature set, a feature that does not match being 0.
  ``feature_normalizers`` in the model (``ranker/normalizer/StandardFeatureNormalizer.java``, applied first by
  ``FeatureNormalizingRanker``): ``standard`` is ``(value - mean) / standard_deviation`` in float32.
* Solr ``org.apache.solr.ltr.model.LinearModel`` (``LinearModel.java``): ``params.weights`` maps every model
  feature to a number; ``score += value * weight`` in float32. A feature's ``norm``
  (``norm/StandardNormalizer.java``) is ``(value - avg) / std`` in float32.

A global normaliser, ``(x - offset) / scale``, is written as the engines' standard normaliser with ``mean`` /
``avg`` = offset and ``standard_deviation`` / ``std`` = scale: the same formula, evaluated in float32 where ltrkit
evaluates it in float64 (scores agree to float32 precision), but for one thing: an offset that float32 cannot hold
(the mean of a Unix-time feature, 1600004770.8, is written as 1600004736) moves every score by ``w * (offset -
offset32) / scale``, the same constant for every document, which leaves every ranking as it is; a note gives the
constant where it exceeds float32's round-off (trial t58). Folding it into the weights instead would drop the
constant ``-sum(w * offset / scale)``, which neither engine's linear model can hold, and so change every score.
A per-query normaliser needs all the candidates of a query and is refused (:mod:`ltr.export._source`).
"""

from __future__ import annotations

import json

import numpy as np

from ltr.export._context import Context
from ltr.export._floats import text
from ltr.export.errors import ExportError

__all__ = ["MODEL_CLASS", "NORM_CLASS", "render_es", "render_solr"]

MODEL_CLASS = "org.apache.solr.ltr.model.LinearModel"
NORM_CLASS = "org.apache.solr.ltr.norm.StandardNormalizer"


def _weights(linear, ctx: Context) -> dict[str, np.float32]:
    with np.errstate(over="ignore"):
        w = np.asarray(linear.weights, dtype=np.float64).astype(np.float32)
    if not np.isfinite(w).all():
        j = int(np.flatnonzero(~np.isfinite(w))[0])
        raise ExportError(f"{ctx.fmt}: the weight of {ctx.names[j]!r} ({float(linear.weights[j])!r}) is beyond "
                          "float32's range")
    known = set(ctx.target)
    out = {}
    for j, name in enumerate(ctx.names):
        if name in known:
            out[name] = w[j]
        elif w[j] != 0:
            raise ExportError(f"{ctx.fmt}: the model weighs feature {name!r} ({text(w[j])}), which the target feature "
                              f"set lacks (it has {len(ctx.target)}: {', '.join(ctx.target[:5])}"
                              f"{', ...' if len(ctx.target) > 5 else ''})")
    return out


def _norms(normalizer, ctx: Context) -> dict[str, tuple[np.float32, np.float32]]:
    """Feature name -> (offset, scale) as float32, for the normalised features (identity ones left out)."""
    if normalizer is None:
        return {}
    out = {}
    for j, name in enumerate(ctx.names):
        o, s = float(normalizer.offset_[j]), float(normalizer.scale_[j])
        if o == 0.0 and s == 1.0:
            continue
        with np.errstate(over="ignore", under="ignore"):
            o32, s32 = np.float32(o), np.float32(s)
        if not (np.isfinite(o32) and np.isfinite(s32) and s32 > 0):
            raise ExportError(f"{ctx.fmt}: the normaliser of {name!r} (offset {float(o)!r}, scale {float(s)!r}) is "
                              "beyond float32's range")
        out[name] = (o32, s32)
    return out


def _note_offset_shift(weights: dict[str, np.float32], normalizer, ctx: Context) -> None:
    """Note the constant that the float32 offsets add to every score, where it is beyond float32's round-off of a
    score of z-scored values (about 2**-24 times the sum of the weights' magnitudes)."""
    if normalizer is None:
        return
    column = {n: j for j, n in enumerate(ctx.names)}
    shift, worst = 0.0, []
    for name, w in weights.items():
        j = column[name]
        o, sc = float(normalizer.offset_[j]), float(normalizer.scale_[j])
        if o == 0.0 and sc == 1.0:
            continue
        part = float(w) * (o - float(np.float32(o))) / float(np.float32(sc))
        shift += part
        worst.append((abs(part), name, o))
    scale = sum(abs(float(w)) for w in weights.values())
    if abs(shift) > 2.0**-20 * max(scale, np.finfo(np.float32).tiny):
        _, name, o = max(worst)
        ctx.notes.append(f"{ctx.fmt}: float32 cannot hold every normaliser's offset (the mean of {name!r}, {o!r}, is "
                         f"written as {float(np.float32(o))!r}): every score comes out {abs(shift):.6g} "
                         f"{'above' if shift > 0 else 'below'} the model's, the same for every document, so rankings "
                         "are unchanged")


def render_es(linear, normalizer, ctx: Context) -> str:
    """The ``_createmodel`` request body (JSON text) of a ``model/linear``."""
    weights = _weights(linear, ctx)
    model = {"type": "model/linear", "definition": {n: float(text(w)) for n, w in weights.items()}}
    norms = {n: v for n, v in _norms(normalizer, ctx).items() if n in weights}
    _note_offset_shift(weights, normalizer, ctx)
    if norms:
        model["feature_normalizers"] = {n: {"standard": {"mean": float(text(o)), "standard_deviation": float(text(s))}}
                                        for n, (o, s) in norms.items()}
    return json.dumps({"model": {"name": ctx.name, "model": model}}, indent=1) + "\n"


def render_solr(linear, normalizer, ctx: Context) -> str:
    """The model-store JSON of a Solr ``LinearModel``."""
    weights = _weights(linear, ctx)
    norms = _norms(normalizer, ctx)
    _note_offset_shift(weights, normalizer, ctx)
    features = []
    for n in weights:
        entry: dict = {"name": n}
        if n in norms:
            o, s = norms[n]
            entry["norm"] = {"class": NORM_CLASS, "params": {"avg": text(o), "std": text(s)}}
        features.append(entry)
    model = {"class": MODEL_CLASS, "name": ctx.name, "store": ctx.store, "features": features,
             "params": {"weights": {n: float(text(w)) for n, w in weights.items()}}}
    return json.dumps(model, indent=1) + "\n"
