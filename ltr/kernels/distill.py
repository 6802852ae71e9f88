r"""Distillation: a student fitted to a teacher's scores, listwise at a temperature, with optional Margin-MSE on
pairs, mixed with LambdaMART's lambdas on the labels.

For one query with student scores :math:`s`, teacher scores :math:`t` and temperature :math:`T`, let
:math:`p = \mathrm{softmax}(s / T)` and :math:`q = \mathrm{softmax}(t / T)`. The soft-target term is the
cross-entropy of the two top-one distributions (Hinton et al.'s soft targets, over a query's documents as in
ListNet), multiplied by :math:`T^2`:

.. math::

    \ell_{KD} = -T^2 \sum_i q_i \log p_i, \qquad g_i = T\,(p_i - q_i), \qquad h_i = p_i (1 - p_i).

The :math:`T^2` factor is Hinton et al.'s convention: the gradient of the plain cross-entropy is
:math:`(p_i - q_i)/T`, which shrinks like :math:`1/T^2` at high temperature (where :math:`p_i - q_i \approx
(s_i - t_i - \overline{s - t}) / (nT)`); scaled by :math:`T^2` the gradient keeps its size as :math:`T` grows
past the score gaps, so changing such a :math:`T` does not change the effective learning rate or the balance with
the label term. Below them it does not hold: :math:`|p_i - q_i| \le 1`, so the scaled gradient shrinks like
:math:`T` (at :math:`T = 0.5` about a fifth below :math:`T = 2` for unit-variance teacher scores), which a grid over
:math:`(\alpha, T)` absorbs. Far above them float64 runs out: :math:`p_i - q_i` is the difference of two values
near :math:`1/n`, so its relative error is about :math:`10^{-16} \cdot T / |s - t|` (:math:`10^{-8}` at
:math:`T = 10^8` for unit gaps, all of it from :math:`T \approx 10^{16}`, every gradient 0 from
:math:`T \approx 10^{20}`; trial t61): a temperature beyond about :math:`10^6` times the score gaps adds nothing and
should not be used. The hessian is the diagonal of the true Hessian :math:`\mathrm{diag}(p) - p p^\top` (tree
boosters take one second derivative per row), which the same factor turns from :math:`p_i(1-p_i)/T^2` into
:math:`p_i(1-p_i)`.

Margin-MSE (Hofstätter et al.) matches the student's score margins to the teacher's over a set of pairs
:math:`P` of the query, ``margin_pairs="all"`` (every pair of documents) or ``"labels"`` (pairs whose labels
differ, as the (relevant, non-relevant) training triples of the paper), averaged over the pairs. With
:math:`d = s - t`, :math:`c_k` the documents whose label equals :math:`k`'s (just :math:`k` itself for ``"all"``)
and :math:`D_k = \sum_{j \in c_k} d_j`,

.. math::

    \ell_{M} = \frac{1}{|P|} \sum_{(i,j) \in P} \bigl((s_i - s_j) - (t_i - t_j)\bigr)^2, \qquad
    g_k = \frac{2}{|P|}\Bigl((n - |c_k|)\,d_k - \bigl(\textstyle\sum_j d_j - D_k\bigr)\Bigr), \qquad
    h_k = \frac{2 (n - |c_k|)}{|P|},

an O(n log n) form of the pair sum (over all pairs it is :math:`\frac{2}{n-1}\sum_i (d_i - \bar d)^2`, a
per-query centred squared error). It uses the raw scores: the temperature does not apply to it.

The objective mixes both with LambdaMART's lambdas (:mod:`ltr.kernels.lambdarank`, whose options ``sigma``,
``truncation_level``, ``norm``, ``label_gain`` and ``mode`` pass through) by ``alpha``:

.. math::

    g = \alpha\, g_{\lambda} + (1 - \alpha)\,\bigl(g_{KD} + \beta\, g_{M}\bigr), \qquad
    h = \alpha\, h_{\lambda} + (1 - \alpha)\,\bigl(h_{KD} + \beta\, h_{M}\bigr),

with :math:`\beta` = ``margin_weight``. ``alpha=0`` uses the teacher only, so the labels are not read (queries
without judgments can be trained on: give them any non-negative label); ``alpha=1`` is the lambdarank kernel
exactly (the teacher is then not needed). Row weights multiply each row's teacher terms, as the lambdarank kernel
weights its own: in ``mode="xgboost"``, where that kernel rescales them to average one over the queries (XGBoost's
``weight_norm``), the teacher terms take them rescaled alike, whatever ``alpha`` (0 included), so that ``alpha``
sets the same balance whatever the weights' scale.

Edge cases: a one-document query has :math:`p = q = 1` and no pair, so zero teacher gradients and hessians; a
student equal to its teacher gets zero teacher gradients (the two softmaxes are computed alike); a query whose
labels are all equal has no ``"labels"`` pair. Teacher scores must be finite; the error names the first bad row
and its query. Student scores are the engines' (finite).

References
----------
G. Hinton, O. Vinyals, J. Dean, "Distilling the Knowledge in a Neural Network", NIPS Deep Learning Workshop, 2015
(arXiv:1503.02531).
Z. Cao, T. Qin, T.-Y. Liu, M.-F. Tsai, H. Li, "Learning to Rank: From Pairwise Approach to Listwise Approach",
ICML 2007.
S. Hofstätter, S. Althammer, M. Schröder, M. Sertkan, A. Hanbury, "Improving Efficient Neural Ranking Models with
Cross-Architecture Knowledge Distillation", arXiv:2010.02666 (2020).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike, NDArray

from ltr.kernels import lambdarank
from ltr.kernels._common import as_group_ptr, as_labels, as_row_weights, as_scores, compute_fresh, work_blocks

__all__ = ["MARGIN_PAIRS", "DistillObjective", "check_options", "grad_hess", "loss", "minus_inf_allowed", "prepare"]

MARGIN_PAIRS = {"all": 0, "labels": 1}
_ALL, _LABELS = 0, 1


@njit(cache=True)
def _softmax(x, temperature, out) -> None:
    top = x.max()
    total = 0.0
    for i in range(x.size):
        out[i] = math.exp((x[i] - top) / temperature)
        total += out[i]
    for i in range(x.size):
        out[i] /= total


@njit(cache=True)
def _margin_groups(d, y, pairs, ceq, deq) -> float:
    """For each row, how many rows share its label (``ceq``) and their sum of ``d`` (``deq``); returns |P|."""
    n = d.size
    if pairs == _ALL:
        for k in range(n):
            ceq[k] = 1.0
            deq[k] = d[k]
        return 0.5 * n * (n - 1)
    order = np.argsort(y, kind="mergesort")
    same = 0.0  # sum over labels of (rows with that label)^2
    a = 0
    while a < n:
        e = a
        total = 0.0
        while e < n and y[order[e]] == y[order[a]]:
            total += d[order[e]]
            e += 1
        for r in range(a, e):
            ceq[order[r]] = e - a
            deq[order[r]] = total
        same += (e - a) * (e - a)
        a = e
    return 0.5 * (n * n - same)


@njit(cache=True)
def _query(s, t, y, w, temperature, alpha, margin_weight, pairs, has_base, p, q, d, ceq, deq, grad, hess) -> None:
    """One query's rows: the teacher terms, mixed into ``grad``/``hess`` (which hold the lambdas if ``has_base``).

    ``p``, ``q``, ``d``, ``ceq``, ``deq`` are scratch arrays of length n.
    """
    n = s.size
    _softmax(s, temperature, p)
    _softmax(t, temperature, q)
    n_pairs = 0.0
    total = 0.0
    if margin_weight > 0.0:
        for k in range(n):
            d[k] = s[k] - t[k]
            total += d[k]
        n_pairs = _margin_groups(d, y, pairs, ceq, deq)
    rest = 1.0 - alpha
    for k in range(n):
        g = temperature * (p[k] - q[k])
        h = p[k] * (1.0 - p[k])
        if n_pairs > 0.0:
            c = 2.0 * margin_weight / n_pairs
            g += c * ((n - ceq[k]) * d[k] - (total - deq[k]))
            h += c * (n - ceq[k])
        if w.size:
            g *= w[k]
            h *= w[k]
        if has_base:
            grad[k] = alpha * grad[k] + rest * g
            hess[k] = alpha * hess[k] + rest * h
        else:
            grad[k] = rest * g
            hess[k] = rest * h


@njit(cache=True, parallel=True)
def _grad_hess(scores, teacher, labels, group_ptr, weight, blocks, max_n, temperature, alpha, margin_weight, pairs,
               has_base, grad, hess) -> None:
    """Driver: ``prange`` over blocks of queries of about equal work; each query writes only its own rows."""
    for b in prange(blocks.size - 1):
        p = np.empty(max_n)
        q = np.empty(max_n)
        d = np.empty(max_n)
        ceq = np.empty(max_n)
        deq = np.empty(max_n)
        for g in range(blocks[b], blocks[b + 1]):
            a, e = group_ptr[g], group_ptr[g + 1]
            m = e - a
            w = weight[a:e] if weight.size else weight
            _query(scores[a:e], teacher[a:e], labels[a:e], w, temperature, alpha, margin_weight, pairs, has_base,
                   p[:m], q[:m], d[:m], ceq[:m], deq[:m], grad[a:e], hess[a:e])


class DistillObjective:
    """Distillation state for one training set; build it with :func:`prepare`, call :meth:`compute` every round.

    ``lambdas`` is the prepared lambdarank objective (None when ``alpha`` is 0).
    """

    def __init__(self, labels, group_ptr, weight, teacher, *, temperature, alpha, margin_weight, pairs, lambdas):
        self.labels = labels
        self.group_ptr = group_ptr
        self.weight = weight
        self.teacher = teacher
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.margin_weight = float(margin_weight)
        self.pairs = int(pairs)
        self.lambdas = lambdas
        self.n_rows = int(group_ptr[-1])
        sizes = np.diff(group_ptr)
        self.max_n = int(sizes.max()) if sizes.size else 1
        self.blocks = work_blocks(group_ptr, sizes.astype(np.float64))

    def compute(self, scores: NDArray[np.float64], grad: NDArray[np.float64], hess: NDArray[np.float64]) -> None:
        """Write gradients and hessians for ``scores`` (float64, length ``n_rows``) into ``grad`` and ``hess``."""
        if self.lambdas is not None:
            self.lambdas.compute(scores, grad, hess)
            if self.alpha == 1.0:  # the lambdarank kernel exactly: no teacher term, not even a zero one
                return
        _grad_hess(scores, self.teacher, self.labels, self.group_ptr, self.weight, self.blocks, self.max_n,
                   self.temperature, self.alpha, self.margin_weight, self.pairs, self.lambdas is not None, grad, hess)


def _number(name: str, value, *, low: float, high: float = math.inf, open_low: bool = False) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = f"> {low:g}" if open_low else (f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}")
        raise ValueError(f"{name} must be a {'' if math.isfinite(high) else 'finite '}number {bound}, got {value!r}")
    return float(value)


def as_teacher(teacher: ArrayLike | None, group_ptr: NDArray[np.int64]) -> NDArray[np.float64]:
    """Teacher scores as contiguous float64, one per row; a missing, misshapen or non-finite one is a ValueError
    naming the first bad row, its query (0-based position) and its place in the query."""
    n_rows = int(group_ptr[-1])
    if teacher is None:
        raise ValueError("the distill objective needs teacher= scores, one per row (or alpha=1, lambdarank only)")
    try:
        t = np.array(teacher, dtype=np.float64).reshape(-1) if np.ndim(teacher) <= 1 else None
    except (TypeError, ValueError):
        raise TypeError(f"teacher must be an array of numbers, one per row; got {type(teacher).__name__}") from None
    if t is None or t.size != n_rows:
        shape = np.shape(teacher)
        raise ValueError(f"teacher must hold one score per row ({n_rows}), got shape {shape}")
    bad = ~np.isfinite(t)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        q = int(np.searchsorted(group_ptr, i, side="right") - 1)
        doc = i - int(group_ptr[q])
        raise ValueError(f"teacher score of row {i} is {float(t[i])} (query {q}, document {doc} of that query's rows); "
                         "teacher scores must be finite")
    big = np.abs(t) > TEACHER_LIMIT
    if big.any():  # a margin gradient of 1e300 was inf in LightGBM's float32: a constant student, blamed on the
        # split settings (trial t55)
        i = int(np.flatnonzero(big)[0])
        raise ValueError(f"teacher score of row {i} (counting from 0) is {float(t[i]):g}: teacher scores beyond "
                         f"+-{TEACHER_LIMIT:g} give gradients beyond the engines' float32; rescale the teacher (divide "
                         "its scores by their scale)")
    return t


#: The largest teacher score taken: the margin loss's gradient grows with the query's size times a score gap, and
#: the engines keep gradients as float32 (up to 3.4e38).
TEACHER_LIMIT = 1e30


def check_options(*, temperature: float = 1.0, alpha: float = 0.0, margin_weight: float = 0.0,
                  margin_pairs: str = "all") -> tuple[float, float, float]:
    """Check :func:`prepare`'s options (a ValueError naming the first bad one), before any data is read; returns
    the numbers as floats."""
    temperature = _number("temperature", temperature, low=0.0, open_low=True)
    alpha = _number("alpha", alpha, low=0.0, high=1.0)
    margin_weight = _number("margin_weight", margin_weight, low=0.0)
    if not isinstance(margin_pairs, str) or margin_pairs not in MARGIN_PAIRS:
        raise ValueError(f"margin_pairs must be one of {sorted(MARGIN_PAIRS)}, got {margin_pairs!r}")
    return temperature, alpha, margin_weight


def _check(labels, group_ptr, weight, teacher, temperature, alpha, margin_weight, margin_pairs):
    temperature, alpha, margin_weight = check_options(temperature=temperature, alpha=alpha,
                                                      margin_weight=margin_weight, margin_pairs=margin_pairs)
    y = as_labels(labels)
    ptr = as_group_ptr(group_ptr, y.size)
    w = as_row_weights(weight, ptr)
    t = as_teacher(teacher, ptr) if alpha < 1.0 or teacher is not None else np.zeros(y.size)
    return y, ptr, w, t, temperature, alpha, margin_weight, MARGIN_PAIRS[margin_pairs]


#: How far above the teacher's score spread a temperature may lie: beyond, the gradients' relative float64 error,
#: about 1e-16 * T / spread (module docstring), passes 1% (a milder T is logit matching, Hinton et al.'s high-T limit).
_HOTTEST = 1e14
#: How far below it: the softmax of scores a first tree has moved apart is one-hot there, its hessians 0, and the
#: trees stop growing (a constant model at 1e-320, trial t63).
_COLDEST = 1e-6


def _warn_off_scale(teacher: NDArray[np.float64], ptr: NDArray[np.int64], temperature: float) -> None:
    """A warning when ``temperature`` lies :data:`_HOTTEST` times above the teacher's typical score spread (the
    median over queries of the spread of its scores) or :data:`_COLDEST` times below: such a run trained a model
    fitted to round-off, or a constant one, with exit 0 and a warning blaming the tree parameters (trial t63)."""
    import warnings

    sizes = np.diff(ptr)
    starts = ptr[:-1][sizes > 0]
    if teacher.size == 0 or starts.size == 0:
        return
    spread = np.maximum.reduceat(teacher, starts) - np.minimum.reduceat(teacher, starts)
    spread = spread[spread > 0]
    if spread.size == 0:
        return
    gap = float(np.median(spread))
    if temperature > _HOTTEST * gap:
        why = (f"over {_HOTTEST:.0e} times above it, the teacher term's gradients are float64 round-off in "
               "good part (relative error about 1e-16 * T / spread)")
    elif temperature < _COLDEST * gap:
        why = (f"over {1 / _COLDEST:.0e} times below it, the softmax of scores a tree has moved apart is one-hot, "
               "its hessians 0, and the trees stop growing")
    else:
        return
    warnings.warn(f"temperature={temperature:g} against a spread of the teacher's scores within a query of "
                  f"{gap:.3g} (median): {why}; choose a temperature near that spread", UserWarning, stacklevel=3)


def prepare(labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
            teacher: ArrayLike | None = None, temperature: float = 1.0, alpha: float = 0.0,
            margin_weight: float = 0.0, margin_pairs: str = "all", sigma: float = 1.0,
            truncation_level: int | None = None, norm: bool = True, label_gain: ArrayLike | None = None,
            mode: str = "exact") -> DistillObjective:
    """Validate once; the returned object computes gradients for any scores.

    Parameters
    ----------
    labels : array-like of shape (n_rows,)
        Relevance labels: integer grades for the lambdarank term (``alpha > 0``); with ``alpha=0`` they are read
        only to form ``margin_pairs="labels"`` pairs, and any non-negative values do.
    group_ptr : array-like of int64, shape (n_queries + 1,)
    weight : array-like of shape (n_rows,) or (n_queries,), optional
    teacher : array-like of shape (n_rows,)
        The teacher's scores, finite; required unless ``alpha=1``.
    temperature : float, default=1.0
        :math:`T > 0`: both score lists are divided by it before the softmax (higher: softer targets).
    alpha : float in [0, 1], default=0.0
        Weight of the lambdarank term on the labels; ``1 - alpha`` weighs the teacher terms.
    margin_weight : float >= 0, default=0.0
        :math:`\\beta`, the weight of Margin-MSE next to the soft-target cross-entropy (0: no Margin-MSE).
    margin_pairs : {"all", "labels"}, default="all"
        Margin-MSE over every pair of the query, or over the pairs whose labels differ.
    sigma, truncation_level, norm, label_gain, mode
        Options of the lambdarank term (:func:`ltr.kernels.lambdarank.prepare`).
    """
    y, ptr, w, t, temperature, alpha, margin_weight, pairs = _check(labels, group_ptr, weight, teacher, temperature,
                                                                    alpha, margin_weight, margin_pairs)
    if alpha < 1.0:
        _warn_off_scale(t, ptr, temperature)
    lambdas = None
    if alpha > 0.0:
        lambdas = lambdarank.prepare(y, ptr, weight=weight, sigma=sigma, truncation_level=truncation_level,
                                     norm=norm, label_gain=label_gain, mode=mode)
    if mode == "xgboost" and w.size:  # the lambdas' weights are rescaled there: the teacher's alike, whatever alpha
        # (weights x10 moved a MQ2008 student's scores by 0.595 at alpha 0.5; trial t57)
        w = w * lambdarank.xgboost_weight_norm(w, ptr)
    return DistillObjective(y, ptr, w, t, temperature=temperature, alpha=alpha, margin_weight=margin_weight,
                            pairs=pairs, lambdas=lambdas)


def grad_hess(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
              teacher: ArrayLike | None = None, temperature: float = 1.0, alpha: float = 0.0,
              margin_weight: float = 0.0, margin_pairs: str = "all", sigma: float = 1.0,
              truncation_level: int | None = None, norm: bool = True, label_gain: ArrayLike | None = None,
              mode: str = "exact") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distillation gradients and diagonal hessians (formulas in the module docstring).

    Examples
    --------
    Equal student scores against a teacher scoring (log 3, 0) at T = 1: p = (1/2, 1/2), q = (3/4, 1/4), so the
    gradients are T (p - q) = (-1/4, +1/4) and the hessians p (1 - p) = 1/4.

    >>> import math
    >>> g, h = grad_hess([0.0, 0.0], [0, 0], [0, 2], teacher=[math.log(3.0), 0.0])
    >>> g.round(12).tolist(), h.tolist()
    ([-0.25, 0.25], [0.25, 0.25])

    At T = 2 the teacher's distribution is (sqrt 3, 1) / (sqrt 3 + 1) and the gradient is 2 (1/2 - 0.6340):

    >>> g, _ = grad_hess([0.0, 0.0], [0, 0], [0, 2], teacher=[math.log(3.0), 0.0], temperature=2.0)
    >>> g.round(4).tolist()
    [-0.2679, 0.2679]
    """
    obj = prepare(labels, group_ptr, weight=weight, teacher=teacher, temperature=temperature, alpha=alpha,
                  margin_weight=margin_weight, margin_pairs=margin_pairs, sigma=sigma,
                  truncation_level=truncation_level, norm=norm, label_gain=label_gain, mode=mode)
    # alpha=1 without a margin term is the lambdarank kernel, which leaves a -inf document out of every pair; the
    # teacher's terms have no such rule (a margin of -inf is inf)
    return compute_fresh(obj, scores, minus_inf=minus_inf_allowed(alpha, margin_weight))


def minus_inf_allowed(alpha, margin_weight) -> bool:
    """Whether the objective with these options takes a score of -inf: only as the lambdarank kernel, alpha=1
    without a margin term."""
    return float(alpha) == 1.0 and float(margin_weight) == 0.0


def loss(scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
         teacher: ArrayLike | None = None, temperature: float = 1.0, alpha: float = 0.0,
         margin_weight: float = 0.0, margin_pairs: str = "all") -> float:
    """Total teacher loss :math:`\\sum_q T^2 \\mathrm{CE}_q + \\beta\\,\\mathrm{MarginMSE}_q`, each query weighted
    by its first row's weight. :func:`grad_hess` weights each row by its own weight, as LightGBM does: the two agree
    (the gradients are this loss's) when the weights are per query, constant within each query.

    Defined for ``alpha=0`` only: LambdaMART's lambdas are not the gradient of any loss, so a mixed objective has
    none (a ValueError says so).

    Examples
    --------
    >>> import math
    >>> round(loss([0.0, 0.0], [0, 0], [0, 2], teacher=[math.log(3.0), 0.0]), 6)   # -(3/4 + 1/4) log(1/2)
    0.693147
    >>> round(loss([1.0, 0.0], [0, 0], [0, 2], teacher=[0.0, 0.0], margin_weight=1.0), 4)  # log(1 + e) - 1/2 + 1^2
    1.8133
    """
    y, ptr, w, t, temperature, alpha, margin_weight, pairs = _check(labels, group_ptr, weight, teacher, temperature,
                                                                    alpha, margin_weight, margin_pairs)
    if alpha != 0.0:
        raise ValueError(f"loss is defined for alpha=0 only (the lambdarank term has no loss function), got "
                         f"alpha={alpha!r}")
    s = as_scores(scores, y.size)
    total = 0.0
    for k in range(ptr.size - 1):
        a, e = ptr[k], ptr[k + 1]
        sq, tq, yq = s[a:e] / temperature, t[a:e] / temperature, y[a:e]
        log_p = sq - sq.max() - np.log(np.sum(np.exp(sq - sq.max())))
        q = np.exp(tq - tq.max())
        q /= q.sum()
        value = -temperature**2 * float(np.sum(q * log_p))
        if margin_weight > 0.0:
            dd = (s[a:e] - t[a:e])[:, None] - (s[a:e] - t[a:e])[None, :]  # every ordered pair, counted twice
            mask = np.ones_like(dd, dtype=bool) if pairs == _ALL else yq[:, None] != yq[None, :]
            np.fill_diagonal(mask, False)
            n_pairs = mask.sum() / 2
            if n_pairs:
                value += margin_weight * float(np.sum(dd[mask] ** 2) / 2) / n_pairs
        total += value * (w[a] if w.size else 1.0)
    return float(total)
