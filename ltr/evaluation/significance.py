"""Paired significance tests over per-query scores, multiple-comparison corrections and effect sizes.

Two systems evaluated on the same queries give two paired vectors ``a`` (the system) and ``b`` (the baseline);
every test here works on the per-query differences ``d = a - b``. The statistics come from SciPy
(``scipy.stats.ttest_rel``, ``wilcoxon``, ``permutation_test``); the corrections (Holm, Bonferroni) are a few lines
each, written here because SciPy has only Benjamini-Hochberg and statsmodels is not a dependency.

Edge cases (defined, tested):

- differences within ``TIE_TOL = 1e-12`` of zero are ties (rounding noise of one metric value computed twice) and
  are set to 0 before testing; for the signed-rank test, magnitudes within it of each other are tied ranks;
- fewer than two paired queries: :class:`ValueError` (no test can say anything);
- all differences zero: p = 1 for every test (SciPy returns NaN for the t-test);
- a mean difference within ``TIE_TOL`` of zero (as many wins as losses of one size: 0.6 - 0.4 and 0.4 - 0.6 are
  not each other's negatives in floats) is zero: t = 0, p = 1 and d = 0, and the randomisation test's p is 1, as
  in exact arithmetic (it tested the rounding noise: p 0.94 and t's p 0.9999999999999999, trial t58);
- constant non-zero differences (spread within ``TIE_TOL``): the t statistic is infinite and p = 0 (SciPy's limit);
- NaN or an infinity in either vector: :class:`ValueError` naming the first position.

References
----------
Smucker, Allan and Carterette (2007), "A comparison of statistical significance tests for information retrieval
evaluation", CIKM. Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ltr._json import strict_json

__all__ = [
    "TESTS",
    "TIE_TOL",
    "CORRECTIONS",
    "TestResult",
    "bonferroni",
    "correct",
    "effect_size",
    "holm",
    "paired_differences",
    "paired_test",
    "paired_ttest",
    "randomization_test",
    "wilcoxon_test",
    "win_tie_loss",
]

#: Test names accepted by :func:`paired_test` (with their aliases) -> canonical name.
TESTS: dict[str, str] = {
    "t": "t", "ttest": "t", "t-test": "t", "student": "t",
    "wilcoxon": "wilcoxon", "signed-rank": "wilcoxon",
    "randomization": "randomization", "randomisation": "randomization", "permutation": "randomization",
    "fisher": "randomization",
}
#: Differences this close to zero are ties; differences this close to each other are equal.
TIE_TOL = 1e-12
#: Correction names accepted by :func:`correct`.
CORRECTIONS: tuple[str, ...] = ("holm", "bonferroni", "none")


@dataclass(frozen=True)
class TestResult:
    """The outcome of one paired test.

    Attributes
    ----------
    test : str
        ``"t"``, ``"wilcoxon"`` or ``"randomization"``.
    statistic : float
        t; Wilcoxon's W (the smaller rank sum, SciPy's); or ``|mean(d)|`` for the randomisation test.
    pvalue : float
        Two-sided.
    n : int
        Number of paired queries.

    Examples
    --------
    >>> import json
    >>> json.dumps(TestResult("t", float("inf"), 0.0, 3).to_dict(), allow_nan=False)
    '{"test": "t", "statistic": null, "pvalue": 0.0, "n": 3}'
    """

    __test__ = False  # not a pytest class, despite its name

    test: str
    statistic: float
    pvalue: float
    n: int

    def to_dict(self) -> dict[str, str | float | int | None]:
        """``{"test", "statistic", "pvalue", "n"}`` as strict JSON values, as ``CVResult.to_dict`` and
        ``Comparison.to_dict`` write them: Python floats and ints, a non-finite value (the infinite t of constant
        non-zero differences, whose sign is that of the mean difference) as None."""
        return strict_json({"test": str(self.test), "statistic": float(self.statistic),
                            "pvalue": float(self.pvalue), "n": int(self.n)})


def paired_differences(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """``a - b`` after checking that both are 1-D, of equal length >= 2 and free of NaN; ``|d| <= TIE_TOL`` -> 0.

    Raises
    ------
    ValueError
        Different lengths, fewer than two queries (a test needs at least two), or a NaN.

    Examples
    --------
    >>> paired_differences([0.5, 0.25], [0.25, 0.25]).tolist()
    [0.25, 0.0]
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"paired scores must be 1-D per-query vectors, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise ValueError(f"paired scores need one value per query in both systems, got {a.size} and {b.size}")
    if a.size < 2:
        raise ValueError(
            f"a paired significance test needs at least two queries, got {a.size}; evaluate on more queries"
        )
    for name, v in (("system", a), ("baseline", b)):
        if np.isnan(v).any():
            raise ValueError(f"the {name} scores have a NaN at query position {int(np.flatnonzero(np.isnan(v))[0])}")
        if np.isinf(v).any():  # (every test's p came out NaN, silently; trial t58)
            i = int(np.flatnonzero(np.isinf(v))[0])
            raise ValueError(f"the {name} scores have the value {v[i]} at query position {i}: scores are finite")
    d = a - b
    d[np.abs(d) <= TIE_TOL] = 0.0
    return d


def paired_ttest(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Student's paired t-test (two-sided): ``scipy.stats.ttest_1samp`` on the differences (= ``ttest_rel``).

    t = mean(d) / (sd(d) / sqrt(n)) with the sample standard deviation, n - 1 degrees of freedom.

    Examples
    --------
    >>> r = paired_ttest([0.6, 0.7, 0.9], [0.5, 0.5, 0.5])   # d = .1, .2, .4: mean .2333, sd .1528
    >>> round(r.statistic, 4), round(r.pvalue, 4)
    (2.6458, 0.1181)
    """
    from scipy import stats

    d = paired_differences(a, b)
    if not np.any(d) or _zero_mean(d):
        return TestResult("t", 0.0, 1.0, d.size)
    if np.ptp(d) <= TIE_TOL:  # zero variance, non-zero mean: SciPy's limit, without its precision warning
        return TestResult("t", math.copysign(math.inf, d.mean()), 0.0, d.size)
    res = stats.ttest_1samp(d, 0.0)
    return TestResult("t", float(res.statistic), float(res.pvalue), d.size)


def wilcoxon_test(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Wilcoxon signed-rank test (two-sided), ``scipy.stats.wilcoxon``.

    Zero differences (within ``TIE_TOL`` of 0) are dropped before the test (Wilcoxon's own treatment), so that the
    queries on which the systems tie change nothing (given to SciPy, they made it leave its exact distribution for
    the normal approximation: 12 differences gave p 0.0522, with 2 tied queries beside them 0.0499, trial t54);
    magnitudes within ``TIE_TOL`` of each other are ties (one difference reached by two float sums, as P@10's
    0.7 - 0.4 and 0.5 - 0.2), given their average rank, as exact arithmetic would. SciPy's ``method="auto"`` then
    takes the exact distribution for up to 50 non-zero differences without ties, a permutation test for up to 13
    with ties, and the normal approximation otherwise. With every difference zero, p = 1.

    Examples
    --------
    >>> r = wilcoxon_test([0.6, 0.7, 0.9, 0.8], [0.5, 0.5, 0.5, 0.5])   # all 4 positive: p = 2 / 2**4
    >>> r.statistic, r.pvalue
    (0.0, 0.125)
    """
    from scipy import stats

    d = _equal_magnitudes(paired_differences(a, b))
    if not np.any(d):
        return TestResult("wilcoxon", 0.0, 1.0, d.size)
    res = stats.wilcoxon(d[d != 0], alternative="two-sided")
    return TestResult("wilcoxon", float(res.statistic), float(res.pvalue), d.size)


def _zero_mean(d: NDArray[np.float64]) -> bool:
    """Whether the mean difference is zero but for rounding (within :data:`TIE_TOL`)."""
    return abs(float(d.mean())) <= TIE_TOL


def _equal_magnitudes(d: NDArray[np.float64]) -> NDArray[np.float64]:
    """``d`` with magnitudes within :data:`TIE_TOL` of each other made one (each run of sorted ``|d|`` whose steps are
    at most ``TIE_TOL`` takes its smallest value), signs kept: the signed-rank test ranks ``|d|``, and one difference
    summed two ways (``0.7 - 0.4`` is 0.29999999999999993, ``0.5 - 0.2`` is 0.3) is a tie, with the average rank.

    Examples
    --------
    >>> _equal_magnitudes(np.array([0.7 - 0.4, -(0.5 - 0.2), 0.9 - 0.6, 0.1])).tolist()
    [0.29999999999999993, -0.29999999999999993, 0.29999999999999993, 0.1]
    """
    order = np.argsort(np.abs(d), kind="stable")
    mags = np.abs(d)[order]
    starts = np.flatnonzero(np.r_[True, np.diff(mags) > TIE_TOL])  # where a new magnitude begins
    snapped = np.empty_like(d)
    snapped[order] = np.repeat(mags[starts], np.diff(np.r_[starts, mags.size]))
    return np.copysign(snapped, d)


# Differences per batch of the randomisation test's resamples: about 80 bytes each at SciPy's peak (indices, the
# permuted pairs, their difference), so some 160 MB whatever the number of permutations or queries.
_BATCH_VALUES = 2_000_000


def _abs_mean(d, axis=-1):
    return np.abs(np.mean(d, axis=axis))


def randomization_test(a: ArrayLike, b: ArrayLike, *, n_permutations: int = 10_000, seed: int = 0) -> TestResult:
    """Fisher's paired randomisation (permutation) test, two-sided, with a fixed seed.

    Under the null hypothesis the two systems are exchangeable on each query, so each difference ``d_i`` is equally
    likely to have either sign. The statistic is T = |mean(d)|; the p-value is the share of sign assignments with
    ``|mean(s * d)| >= T`` (Smucker et al. 2007, as RankLib's ``RandomPermutationTest``), computed by
    ``scipy.stats.permutation_test(permutation_type="samples")``:

    - exact when ``2**n <= n_permutations``: every assignment is enumerated and p = count / 2**n;
    - otherwise ``n_permutations`` random assignments drawn with ``seed``, and p = (count + 1) / (n_permutations + 1)
      (the observed assignment counts once, so p is never 0).

    Examples
    --------
    Three queries, 2**3 = 8 sign assignments; |mean| >= 7/30 only for (+,+,+) and (-,-,-):

    >>> r = randomization_test([0.6, 0.7, 0.9], [0.5, 0.5, 0.5])
    >>> r.pvalue
    0.25
    """
    from scipy import stats

    d = paired_differences(a, b)
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)) or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    if not (seed is None or isinstance(seed, np.random.Generator) or (  # (NumPy's words, naming nothing)
            isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0)):
        raise ValueError(f"seed must be a non-negative integer (or None, or a numpy Generator), got {seed!r}")
    observed = float(abs(d.mean()))
    if not np.any(d) or _zero_mean(d):  # every assignment reaches |mean| >= 0
        return TestResult("randomization", 0.0, 1.0, d.size)
    kwargs = {}
    # SciPy >= 1.15 takes rng=; older versions random_state= (same meaning for an int seed).
    key = "rng" if "rng" in inspect.signature(stats.permutation_test).parameters else "random_state"
    kwargs[key] = np.random.default_rng(seed)
    # permutation_type="samples" swaps the members of each pair (d_i, 0): a swap negates d_i, i.e. a sign flip.
    # SciPy builds every resample at once unless given batch= (200,000 permutations of 225 queries took 3.5 GB), so
    # each batch holds at most _BATCH_VALUES differences; its generator draws the same stream whatever the batch
    # size, so the p-value for a seed does not change (tested against the unbatched call).
    res = stats.permutation_test(
        (d, np.zeros_like(d)),
        lambda x, y, axis: _abs_mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=int(n_permutations),
        batch=max(1, _BATCH_VALUES // d.size),
        alternative="greater",
        **kwargs,
    )
    return TestResult("randomization", observed, float(min(1.0, res.pvalue)), d.size)


def paired_test(a: ArrayLike, b: ArrayLike, test: str = "t", *, n_permutations: int = 10_000,
                seed: int = 0) -> TestResult:
    """Dispatch to :func:`paired_ttest`, :func:`wilcoxon_test` or :func:`randomization_test` by name.

    Examples
    --------
    >>> paired_test([0.6, 0.7, 0.9, 0.8], [0.5, 0.5, 0.5, 0.5], "wilcoxon").pvalue
    0.125
    """
    name = TESTS.get(str(test).lower())
    if name is None:
        raise ValueError(
            f"unknown test {test!r}; choose one of {sorted(set(TESTS.values()))} (aliases {sorted(TESTS)})"
        )
    if name == "t":
        return paired_ttest(a, b)
    if name == "wilcoxon":
        return wilcoxon_test(a, b)
    return randomization_test(a, b, n_permutations=n_permutations, seed=seed)


def bonferroni(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Bonferroni-adjusted p-values: ``min(1, m * p)``.

    Examples
    --------
    >>> bonferroni([0.01, 0.04, 0.3]).tolist()
    [0.03, 0.12, 0.8999999999999999]
    """
    p = _pvalues(pvalues)
    return np.minimum(1.0, p * p.size)


def holm(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values (Holm 1979), in the input order.

    With the p-values sorted ascending, ``p~_(i) = max_{j <= i} min(1, (m - j + 1) * p_(j))`` (1-based ``j``);
    rejecting where ``p~ <= alpha`` controls the family-wise error rate at ``alpha``, as Bonferroni does, with more
    power.

    Examples
    --------
    m = 3, sorted 0.01, 0.03, 0.04: 3 * 0.01 = 0.03; 2 * 0.03 = 0.06; max(0.06, 1 * 0.04) = 0.06:

    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = _pvalues(pvalues)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, p[order] * (m - np.arange(m)))
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def correct(pvalues: ArrayLike, method: str = "holm") -> NDArray[np.float64]:
    """Adjust a family of p-values: ``"holm"``, ``"bonferroni"`` or ``"none"``."""
    if method == "holm":
        return holm(pvalues)
    if method == "bonferroni":
        return bonferroni(pvalues)
    if method == "none":
        return _pvalues(pvalues).copy()
    raise ValueError(f"unknown correction {method!r}; choose one of {list(CORRECTIONS)}")


def _pvalues(pvalues: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    if np.isnan(p).any() or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    return p


def effect_size(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d for paired samples (d_z): ``mean(d) / sd(d)``, sample standard deviation (n - 1).

    0 when every difference is zero; +-inf for constant non-zero differences.

    Examples
    --------
    >>> round(effect_size([0.6, 0.7, 0.9], [0.5, 0.5, 0.5]), 4)   # 0.2333 / 0.1528
    1.5275
    """
    d = paired_differences(a, b)
    mean = 0.0 if _zero_mean(d) else float(d.mean())
    sd = float(d.std(ddof=1))
    if mean == 0.0:
        return 0.0
    if np.ptp(d) <= TIE_TOL:
        return 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / sd


def win_tie_loss(a: ArrayLike, b: ArrayLike, *, tol: float = TIE_TOL) -> tuple[int, int, int]:
    """Queries where ``a`` beats, ties (``|a - b| <= tol``) and loses to ``b``.

    Examples
    --------
    >>> win_tie_loss([0.5, 0.2, 0.3], [0.1, 0.2, 0.4])
    (1, 1, 1)
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    ties = np.abs(d) <= tol
    return int(np.sum((d > 0) & ~ties)), int(np.sum(ties)), int(np.sum((d < 0) & ~ties))
