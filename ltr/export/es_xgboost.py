"""``es-xgboost``: the Elasticsearch / OpenSearch LTR plugin's ``model/xgboost+json``, from XGBoost and LightGBM.

Defined by the plugin's source (o19s/elasticsearch-learning-to-rank and
opensearch-project/opensearch-learning-to-rank-base: ``ranker/parser/XGBoostJsonParser.java`` and
``ranker/dectree/NaiveAdditiveDecisionTree.java``):

* the definition is a JSON array of trees (the array form: no ``objective``, so the plugin's no-op normaliser, as
  for ``reg:linear``: the score is the margin, which is what ltrkit's ``predict`` returns);
* a split node has ``nodeid``, ``depth``, ``split`` (a feature name of the feature set), ``split_condition``,
  ``yes``, ``no``, ``missing`` and ``children`` (first the ``yes`` child, then the ``no`` child); a leaf has
  ``nodeid`` and ``leaf``; numbers are read as Java ``float``;
* a feature value ``x`` (float32) goes to ``yes`` when ``split_condition > x``, to ``no`` otherwise, and to
  ``missing``'s child when it is NaN (OpenSearch LTR's releases 3.2 to 3.7 send NaN to ``no`` whatever ``missing``
  says, issue #378 there; 3.8 follows ``missing``);
* the score is the float32 sum of the trees' leaves, in order, from 0.

What a feature whose query does not match the document is depends on the plugin's version. o19s
elasticsearch-learning-to-rank: 0 until PR #482 (merged 2024-01: ``SparseFeatureVector``, NaN for XGBoost models);
``missing`` is followed since PR #480 (merged 2023-12). OpenSearch LTR: 0 in 2.19 (issue #200), NaN since PR #206
(merged 2025-08, released in 3.2; the change from 3.1, issue #286), ``missing`` followed since PR #379 (it fixes
issue #378, reported on 3.5; first released in 3.8.0.0, 2026-07-31); PR #389 (2026-08) adds an optional top-level
``missing_as_zero`` to the object form.
So where a node sends a missing value and 0 different ways, the export (``missing="nan"``) is exact only on a plugin
that gives NaN and follows ``missing``; on one that gives 0 such a document takes 0's way. The trees are written as
the option says, and a note counts those nodes. ``missing="zero"`` (for a model trained on ``ltr features`` output,
which has no missing values) sends a missing value where 0 goes, which the plugins that give 0 or follow
``missing`` score the same, but not OpenSearch LTR 3.2 to 3.7, which send NaN to ``no``: there no feature may be
left without a value. The feature set written beside the model sees to that for its BM25 queries (a ``match_all`` of
boost 0 beside each ``match``, :mod:`ltr.export.featureset`); a note counts the nodes that send a missing value to
``yes``, which those versions take the other way.

The threshold written is the float32 just above the largest value the node sends left (:mod:`ltr.export._plan`),
so every float32 goes the way ltrkit sends it; a node that sends every value left, +inf too (LightGBM's
``threshold=inf``, a missing value against every value), has ``split_condition`` -inf, its values' child as ``no``
and the missing value's as ``yes``: exact where ``missing`` is followed, while OpenSearch LTR 3.2 to 3.7, which send
NaN to ``no``, send a missing value at such a node the values' way (the note below counts these nodes with the
others that send a missing value to ``yes``). A base score (XGBoost's) is a leading one-leaf tree: the plugin then
adds exactly as XGBoost does, starting from the base, and its sums are bit-for-bit XGBoost's. The file written is
the body of ``POST _ltr/_featureset/<store>/_createmodel``.
"""

from __future__ import annotations

import json

import numpy as np

from ltr.export._context import Context
from ltr.export._floats import next_up, text
from ltr.export._plan import TreePlan, build

__all__ = ["MAX_DEPTH", "NESTING", "render"]

#: The deepest tree exported: each level nests two JSON levels (a node object, its children array), and JSON readers
#: stop at about 1000 (Jackson's default, which Elasticsearch and OpenSearch read with; Python's json writer too).
MAX_DEPTH = 450
NESTING = ("each level nests two JSON levels (a node, its children), and Jackson, with which Elasticsearch and "
           "OpenSearch read JSON, stops at 1000 by default")


def _number(x) -> float:
    return float(text(x))  # 1e39 for infinity: a JSON number Java reads as infinity


def _tree(plan: TreePlan, t: int, ctx: Context, missing_yes: np.ndarray) -> dict:
    counter = [0]

    def leaf(value):
        return {"leaf": _number(value)}

    def split(k, depth, left, right):
        if np.isposinf(plan.left_max[k]):  # every value goes left, +inf too, which no 'split_condition > x' sends
            # to 'yes' (LightGBM's threshold=inf, NaN against every value: trial t60): nothing goes to 'yes' below
            # -inf, so the values' child is 'no' and the other child, 'yes', is reached by a missing value alone
            return {"depth": depth, "split": ctx.names[plan.feature[k]], "split_condition": _number(-np.inf),
                    "k": k, "children": [right, left]}
        return {"depth": depth, "split": ctx.names[plan.feature[k]],
                "split_condition": _number(next_up(plan.left_max[k])),
                "k": k, "children": [left, right]}

    root = build(plan, t, leaf, split)

    def number(node):  # node ids in pre-order, as XGBoost's own dumps number them top-down
        node["nodeid"] = counter[0]
        counter[0] += 1
        if "children" in node:
            for child in node["children"]:
                number(child)
            k = node.pop("k")
            yes, no = (c["nodeid"] for c in node["children"])
            node.update(yes=yes, no=no, missing=yes if missing_yes[k] else no)
        return node

    return number(root)


def _order(node: dict) -> dict:
    keys = ("nodeid", "depth", "split", "split_condition", "yes", "no", "missing", "children", "leaf")
    out = {k: node[k] for k in keys if k in node}
    if "children" in out:
        out["children"] = [_order(c) for c in out["children"]]
    return out


def render(plan: TreePlan, ctx: Context) -> str:
    """The ``_createmodel`` request body (JSON text) for ``plan``."""
    missing_left = ctx.missing_left(plan)
    differ = np.flatnonzero(missing_left != plan.zero_left)
    if differ.size:
        ctx.notes.append(
            f"{ctx.fmt}: {differ.size} split nodes send a missing value and 0 different ways (first: "
            f"{plan.where(int(differ[0]))}); the export is exact on plugins that give a feature that does not match "
            "NaN and follow 'missing' (o19s Elasticsearch LTR with PRs #480 and #482, merged 2023-12 and 2024-01; "
            "OpenSearch LTR with PR #379, the fix of issue #378, from 3.8: 3.2 to 3.7 send NaN to 'no'); older "
            "plugins (o19s before PR #482, OpenSearch LTR before 3.2: 2.19, 3.1) read such a feature as 0 and then "
            "score otherwise than the model; pass --missing zero (missing='zero') if the model was trained with 0 for "
            "features that did not match")
    missing_yes = np.where(np.isposinf(plan.left_max), ~missing_left, missing_left)  # (left is 'no' there: _tree)
    to_yes = int(np.count_nonzero(missing_yes))
    if to_yes:
        ctx.notes.append(
            f"{ctx.fmt}: {to_yes} of {missing_left.size} split nodes send a missing value to 'yes' (first: "
            f"{plan.where(int(np.flatnonzero(missing_yes)[0]))}); OpenSearch LTR 3.2 to 3.7 send NaN to 'no' "
            "whatever 'missing' says (issue #378, fixed by PR #379): there give every feature a value for every "
            "document" + (" (the BM25 match queries of a feature set ltrkit writes do, a match_all of boost 0 beside "
                          "each match; a query written into a template must do the same)"  # (it said the feature
                          if ctx.missing == "zero" else ""))  # set's queries did where it had none: trial t72)
    # a base score is a leading leaf; so is 0 for a model of no tree, as the plugin refuses an empty definition
    trees = [{"nodeid": 0, "leaf": _number(plan.base)}] if plan.base != 0 or not plan.n_trees else []
    trees += [_order(_tree(plan, t, ctx, missing_yes)) for t in range(plan.n_trees)]
    body = {"model": {"name": ctx.name, "model": {"type": "model/xgboost+json", "definition": trees}}}
    if plan.base != 0:
        ctx.notes.append(f"{ctx.fmt}: the base score {float(plan.base)!r} is the first tree, a single leaf")
    return json.dumps(body, separators=(",", ":"), allow_nan=False) + "\n"
