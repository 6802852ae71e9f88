"""``es-ranklib``: the Elasticsearch / OpenSearch LTR plugin's ``model/ranklib``, RankLib's LambdaMART ensemble text.

Defined by RankLib as the plugin loads it (o19s/RankyMcRankFace, the plugin's RankLib: ``RankerFactory
.loadRankerFromString``, ``parsing/ModelLineProducer``, ``learning/tree/Ensemble``, ``Split``, ``LambdaMART``; and
the plugin's ``ranker/ranklib/RanklibModelParser`` and ``DenseProgramaticDataPoint``):

* the first line ``## LambdaMART`` chooses the ranker; lines starting with ``#`` are skipped, the others are trimmed
  and joined, then read as XML: ``<ensemble>`` of ``<tree id weight>``, each holding one ``<split>``; a split is
  ``<feature>``, ``<threshold>``, then the left and the right ``<split>`` (in that order), a leaf is ``<output>``;
* ``<feature>`` is the 1-based position of the feature in the plugin's feature set; thresholds and outputs are read
  with ``Float.parseFloat``;
* a value ``x`` goes left when ``x <= threshold`` (float32); a feature that does not match, or is NaN, is 0 (RankLib
  has no missing values);
* the score is ``s += output * weight`` over the trees in order, ``s`` a float32 from 0 (the product in double).

Every tree has weight 1 (the leaves already carry the learning rate), the threshold is the largest float32 the
node sends left, and a base score is a leading one-leaf tree. Because the plugin reads a missing value as 0, a model
that sends NaN and 0 different ways is refused unless ``missing="zero"`` says missing values are zeros.
"""

from __future__ import annotations

import json

import numpy as np

from ltr.export._context import Context
from ltr.export._floats import text
from ltr.export._plan import TreePlan, build
from ltr.export.errors import ExportError

__all__ = ["render"]


def _tree_lines(plan: TreePlan, t: int, ctx: Context) -> list[str]:
    def leaf(value):
        return [f"<output> {text(value)} </output>"]

    def split(k, depth, left, right):
        return ([f"<feature> {ctx.position(int(plan.feature[k])) + 1} </feature>",
                 f"<threshold> {text(plan.left_max[k])} </threshold>", '<split pos="left">']
                + ["\t" + s for s in left] + ["</split>", '<split pos="right">'] + ["\t" + s for s in right]
                + ["</split>"])

    return build(plan, t, leaf, split)


def render(plan: TreePlan, ctx: Context) -> str:
    """The ``_createmodel`` request body (JSON text) holding the RankLib model text for ``plan``."""
    if ctx.missing == "nan":
        differ = np.flatnonzero(plan.nan_left != plan.zero_left)
        if differ.size:
            k = int(differ[0])
            why = (f"{ctx.fmt}: RankLib has no missing values (the plugin reads a feature that does not match as 0), "
                   f"but {plan.where(k)} sends a missing value {'left' if plan.nan_left[k] else 'right'} and 0 "
                   f"{'left' if plan.zero_left[k] else 'right'} ({differ.size} such nodes); pass ")
            fix = " if the model's missing values are zeros"
            raise ExportError(why + "missing='zero'" + fix, cli=why + "--missing zero" + fix)
    trees = [[f"<output> {text(plan.base)} </output>"]] if plan.base != 0 else []
    trees += [_tree_lines(plan, t, ctx) for t in range(plan.n_trees)]
    n_leaves = int(np.diff(plan.leaf_ptr).max(initial=1))
    lines = ["## LambdaMART", f"## No. of trees = {len(trees)}", f"## No. of leaves = {n_leaves}",
             "## No. of threshold candidates = 256", "## Learning rate = 1.0", "## Stop early = 0",
             f"## Exported by ltrkit from a {plan.engine} model: tree weights are 1, leaves carry the learning rate",
             "", "<ensemble>"]
    for i, body in enumerate(trees):
        lines += [f'\t<tree id="{i + 1}" weight="1.0">', "\t\t<split>"] + ["\t\t\t" + s for s in body]
        lines += ["\t\t</split>", "\t</tree>"]
    lines.append("</ensemble>")
    if plan.base != 0:
        ctx.notes.append(f"{ctx.fmt}: the base score {float(plan.base)!r} is the first tree, a single leaf")
    definition = "\n".join(lines) + "\n"
    body = {"model": {"name": ctx.name, "model": {"type": "model/ranklib", "definition": definition}}}
    return json.dumps(body, indent=1) + "\n"
