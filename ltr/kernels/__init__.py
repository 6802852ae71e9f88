"""Numba ranking losses: one file per loss, one signature.

Every kernel module offers

- ``grad_hess(scores, labels, group_ptr, *, weight=None, **options) -> (grad, hess)``: float64 in and out,
  validating its input;
- ``prepare(labels, group_ptr, *, weight=None, **options)``: validates once and returns an object whose
  ``compute(scores, grad, hess)`` writes into preallocated float64 buffers (what the engine adapters in
  :mod:`ltr.objectives` call every boosting round);
- and, where the loss is a function of the scores, ``loss(scores, labels, group_ptr, ...)``.

Inside, a jitted per-query function does the work and a ``prange`` driver runs it over blocks of queries
(``cache=True``, so a second process loads the compiled code instead of compiling again). Options arrive in the
kernels as numbers, chosen in Python. Importing this package compiles nothing.

Examples
--------
>>> from ltr.kernels import get_kernel
>>> g, h = get_kernel("ranknet").grad_hess([0.0, 0.0], [1, 0], [0, 2])
>>> g.tolist()
[-0.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from ltr.kernels import distill, lambdarank, listnet, pointwise, ranknet

__all__ = ["KERNELS", "Kernel", "check_scores", "distill", "get_kernel", "lambdarank", "listnet", "pointwise",
           "ranknet"]


@dataclass(frozen=True)
class Kernel:
    """A registered loss: its module's entry points and what they need."""

    name: str
    module: ModuleType
    grad_hess: Callable
    prepare: Callable
    loss: Callable | None
    integer_labels: bool
    summary: str


def _kernel(name: str, module: ModuleType, *, integer_labels: bool, summary: str) -> Kernel:
    return Kernel(name, module, module.grad_hess, module.prepare, getattr(module, "loss", None), integer_labels,
                  summary)


#: The registry: the single source of truth for kernel names.
KERNELS: dict[str, Kernel] = {
    "pointwise": _kernel("pointwise", pointwise, integer_labels=False,
                         summary="squared error on the grade, or logistic on 0/1 labels (loss=)"),
    "ranknet": _kernel("ranknet", ranknet, integer_labels=False,
                       summary="pairwise logistic loss over all pairs with different labels (sigma=)"),
    "listnet": _kernel("listnet", listnet, integer_labels=False,
                       summary="top-one softmax cross-entropy (target='softmax' or 'gain')"),
    "lambdarank": _kernel("lambdarank", lambdarank, integer_labels=True,
                          summary="LambdaMART NDCG lambdas, LightGBM's algorithm (mode='exact'|'lightgbm'|'xgboost')"),
    "distill": _kernel("distill", distill, integer_labels=False,
                       summary="a teacher's scores: softmax cross-entropy at a temperature, optional Margin-MSE, "
                               "mixed with lambdarank by alpha (teacher=, temperature=, alpha=, margin_weight=)"),
}


def get_kernel(name: str) -> Kernel:
    """The registered kernel called ``name``; unknown names raise ValueError listing the known ones."""
    try:
        return KERNELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown kernel {name!r}; choose one of {sorted(KERNELS)}") from None


def check_scores(name: str, scores, n_rows: int, *, alpha: float = 0.0, margin_weight: float = 0.0) -> None:
    """Refuse scores kernel ``name`` has no gradient for, as its ``grad_hess`` refuses them: NaN and +inf always,
    -inf unless the kernel is lambdarank's (LightGBM's rule leaves such a document out of every pair), which distill
    is with ``alpha=1`` and no margin term. For an engine's initial scores, which reach the kernels unchecked.

    >>> check_scores("lambdarank", [0.0, float("-inf")], 2)
    >>> check_scores("ranknet", [0.0, float("-inf")], 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: scores must be finite numbers; row 1 is -inf (...)
    """
    from ltr.kernels._common import as_scores

    as_scores(scores, n_rows, minus_inf=name == "lambdarank" or (
        name == "distill" and distill.minus_inf_allowed(alpha, margin_weight)))

