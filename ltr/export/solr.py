"""``solr``: Solr's ``MultipleAdditiveTreesModel`` (the LTR module's model store JSON), from XGBoost and LightGBM.

Defined by Solr's ``solr/modules/ltr/src/java/org/apache/solr/ltr/model/MultipleAdditiveTreesModel.java`` (9.2 and
later; the ``missing`` branch is SOLR-16596):

* ``params.trees``: a list of ``{"weight", "root"}``; a split node is ``{"feature", "threshold", "missing",
  "left", "right"}``, a leaf ``{"value"}``; values are strings read with ``Float.parseFloat``;
* Solr stores ``threshold + 1e-6f`` (``NODE_SPLIT_SLACK``, added in float32) and sends ``x`` left when
  ``x <= threshold``; with ``"isNullSameAsZero": false`` a NaN feature value (a feature whose ``defaultValue`` is
  NaN and that did not match) follows ``missing`` (``"left"``; anything else is right);
* the score is ``score += weight * tree`` in float32, over the trees in order, from 0.

With ``missing="zero"`` and the store written beside it (no ``target_features``), no feature has a NaN default, so
the model names neither ``isNullSameAsZero`` nor a node's ``missing``, and reads on Solr before 9.2 as well (which
has no setters for them and refuses a model naming them).

The threshold written is the float32 ``u`` for which ``u + 1e-6f`` is exactly the largest value the node sends
left. Near zero no such ``u`` exists (``u + 1e-6f`` moves in steps of 2**-43 there): LightGBM's split between 0 and
the positive values, at 1e-35, is such a threshold. So is about every other float32 just inside a negative power of
two (in (-2**k, -2**k + 1e-6]: ``u`` lies in the next binade, whose steps are twice as wide; trial t64 met them
around -0.5 and -1). Those nodes are refused (``inexact="refuse"``) or, with
``inexact="nearest"``, given the nearest threshold Solr can hold, and every float32 interval that then goes the
other way is listed in the notes. A base score is a leading one-leaf tree.
"""

from __future__ import annotations

import json

import numpy as np

from ltr.export._context import Context
from ltr.export._floats import ordinal, solr_neighbours, solr_stored, solr_written, text
from ltr.export._plan import TreePlan, build
from ltr.export.errors import ExportError

#: The deepest tree exported: each level nests a JSON object, and JSON readers stop near 1000 levels (Python's json
#: writer at its recursion limit).
MAX_DEPTH = 800
NESTING = "each level nests a JSON object, and JSON readers stop near 1000 levels"

__all__ = ["MAX_DEPTH", "MODEL_CLASS", "NESTING", "render", "solr_threshold"]

MODEL_CLASS = "org.apache.solr.ltr.model.MultipleAdditiveTreesModel"


def solr_threshold(left_max, *, inexact: str = "refuse") -> tuple[np.float32, tuple | None]:
    """The float32 to write so that Solr's stored threshold is ``left_max``; with ``inexact="nearest"``, when none
    exists, the one whose stored threshold is nearest in float32 order (but never one that sends 0 the other way
    where the other does not) and the interval ``(a, b]`` of values that then go the other way (else None).

    Examples
    --------
    >>> u, gap = solr_threshold(np.float32(0.5))
    >>> float(np.float32(u) + np.float32(1e-6)), gap
    (0.5, None)
    """
    u = solr_written(left_max)
    if u is not None:
        return u, None
    if inexact != "nearest":
        raise ValueError("no float32 threshold")
    below, above = solr_neighbours(left_max)
    # 0 is the commonest value of a sparse feature: an interval that holds it is never taken when the other does
    # not (LightGBM's -1e-35 split of the negatives from 0 went to 0.0, sending every 0 left: trial t54)
    zero_below, zero_above = below < 0 <= left_max, left_max < 0 <= above
    if zero_below != zero_above:
        nearer_below = zero_above
    else:
        nearer_below = int(ordinal(left_max)) - int(ordinal(below)) <= int(ordinal(above)) - int(ordinal(left_max))
    if nearer_below:
        chosen, gap = below, (below, left_max)  # (below, left_max] now go right
    else:
        chosen, gap = above, (left_max, above)  # (left_max, above] now go left
    u = solr_written(chosen)
    assert u is not None and solr_stored(u) == chosen
    return u, gap


def render(plan: TreePlan, ctx: Context) -> str:
    """The model-store JSON for ``plan``."""
    missing_left = ctx.missing_left(plan)
    # with missing="zero" the store written beside it gives no feature a NaN default: no node sees NaN, and the model
    # names neither isNullSameAsZero nor a node's missing, which Solr before 9.2 (SOLR-16596) refuses (trial t64);
    # an engine's own store (target_features) may give NaN defaults: there NaN goes where 0 goes, as before
    nan_seen = ctx.missing != "zero" or ctx.targeted
    moved: dict[tuple[str, str, str, str], list[str]] = {}  # (feature, interval, side) -> the nodes that move it

    def leaf(value):
        return {"value": text(value)}

    def split(k, depth, left, right):
        try:
            u, gap = solr_threshold(plan.left_max[k], inexact=ctx.inexact)
        except ValueError:
            below, above = solr_neighbours(plan.left_max[k])
            why = (f"{ctx.fmt}: {plan.where(k)} (feature {ctx.names[plan.feature[k]]!r}) sends x left when x <= "
                   f"{text(plan.left_max[k])}, a threshold Solr cannot hold: it adds 1e-6f to every threshold in "
                   f"float32 (NODE_SPLIT_SLACK), so the nearest it can hold are {text(below)} and {text(above)}; pass ")
            fix = " to accept them (the notes list the values that then go the other way)"
            raise ExportError(why + "inexact='nearest'" + fix, cli=why + "--inexact nearest" + fix) from None
        if gap is not None:
            side = "right" if gap[1] == plan.left_max[k] else "left"
            key = (ctx.names[plan.feature[k]], text(gap[0]), text(gap[1]), side)
            moved.setdefault(key, []).append(plan.where(k))
        node = {"feature": ctx.names[plan.feature[k]], "threshold": text(u), "left": left, "right": right}
        if nan_seen:  # (Solr before 9.2 has no such setting, and refuses a model that names it)
            node["missing"] = "left" if missing_left[k] else "right"
        return node

    trees = [{"weight": "1", "root": {"value": text(plan.base)}}] if plan.base != 0 else []
    trees += [{"weight": "1", "root": build(plan, t, leaf, split)} for t in range(plan.n_trees)]
    for (feature, lo, hi, side), nodes in moved.items():  # one note per feature and interval, not per node
        at = nodes[0] if len(nodes) == 1 else f"{len(nodes)} split nodes ({', '.join(nodes[:3])}" + \
            (", ...)" if len(nodes) > 3 else ")")
        ctx.notes.append(f"{ctx.fmt}: {at} (feature {feature!r}): values in ({lo}, {hi}] go {side}, unlike the model")
    used = {ctx.names[j] for j in plan.used_features()}
    model = {"class": MODEL_CLASS, "name": ctx.name, "store": ctx.store,
             "features": [{"name": n} for n in ctx.target if n in used] or [{"name": ctx.target[0]}],
             "params": {"isNullSameAsZero": False, "trees": trees} if nan_seen else {"trees": trees}}
    if plan.base != 0:
        ctx.notes.append(f"{ctx.fmt}: the base score {float(plan.base)!r} is the first tree, a single leaf")
    return json.dumps(model, indent=1) + "\n"
