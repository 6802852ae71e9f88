"""The CUDA kernels (ltr.kernels.cuda) against the CPU kernels, run on Numba's CUDA simulator (no GPU needed).

The simulator executes the kernels' Python source thread by thread, so the data stays tiny. The parity modes of
lambdarank, ranknet, listnet and pointwise must agree bit for bit (the same floating-point operations in the same
order, and the simulator's exp/log2 are the host's); lambdarank's exact mode to round-off (its normalisation sum
adds per-rank partial sums). A GPU-only test trains XGBoost on CUDA with device-resident gradients.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest

numba.config.ENABLE_CUDASIM = True  # before numba.cuda is first imported: the simulator, on any machine

from ltr._shared import import_reference  # noqa: E402

import_reference("numba.cuda")  # numba-cuda (in dev): a failure under LTRKIT_REQUIRE_SHARED=1

from ltr.kernels import cuda as kc  # noqa: E402
from ltr.kernels import get_kernel  # noqa: E402


def _data(seed: int = 0, *, ties: bool = True):
    """Queries of 1, 2, 5, 9 and 13 documents, a query without a relevant document, tied scores, one -inf."""
    rng = np.random.default_rng(seed)
    sizes = [1, 2, 5, 9, 13, 3, 4]
    ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    n = int(ptr[-1])
    y = rng.integers(0, 4, n).astype(np.float64)
    y[ptr[5]:ptr[6]] = 0.0  # no relevant document
    y[ptr[6]:ptr[7]] = 2.0  # all labels equal
    s = rng.standard_normal(n)
    if ties:
        s = s.round(1)
    w = rng.uniform(0.5, 2.0, n)
    return s, y, ptr, w


def _cpu(name, s, y, ptr, **options):
    kernel, fixed = kc._ALIASES.get(name, (name, {}))
    return get_kernel(kernel).grad_hess(s, y, ptr, **fixed, **options)


@pytest.mark.parametrize(("name", "options"), [
    ("pointwise", {}),
    ("ranknet", {"sigma": 1.5}),
    ("listnet", {}),
    ("listnet", {"target": "gain"}),
    ("lambdarank", {"mode": "lightgbm"}),
    ("lambdarank", {"mode": "lightgbm", "sigma": 2.0, "truncation_level": 4}),
    ("lambdarank", {"mode": "xgboost"}),
    ("lambdarank", {"mode": "xgboost", "norm": False}),
    ("lambdarank", {"norm": False, "truncation_level": 3, "sigma": 2.0}),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_gpu_kernel_equals_cpu_kernel_bit_for_bit(name, options, weighted):
    s, y, ptr, w = _data()
    if name == "lambdarank":
        s[ptr[4] + 2] = -np.inf  # takes no part in any pair
    weight = w if weighted else None
    g, h = kc.grad_hess(name, s, y, ptr, weight=weight, **options)
    g0, h0 = _cpu(name, s, y, ptr, weight=weight, **options)
    assert np.array_equal(g, g0) and np.array_equal(h, h0)


def test_logistic_alias_is_the_pointwise_logistic_loss():
    s, y, ptr, _ = _data(1)
    yb = (y >= 2).astype(np.float64)
    g, h = kc.grad_hess("logistic", s, yb, ptr)
    g0, h0 = get_kernel("pointwise").grad_hess(s, yb, ptr, loss="logistic")
    assert np.array_equal(g, g0) and np.array_equal(h, h0)


@pytest.mark.parametrize("weighted", [False, True])
def test_lambdarank_exact_mode_equals_cpu_to_round_off(weighted):
    # The normalisation sum S is a sum of per-rank partial sums on the GPU, one running sum on the CPU.
    s, y, ptr, w = _data(2, ties=False)
    weight = w if weighted else None
    g, h = kc.grad_hess("lambdarank", s, y, ptr, weight=weight)
    g0, h0 = get_kernel("lambdarank").grad_hess(s, y, ptr, weight=weight)
    np.testing.assert_allclose(g, g0, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, h0, rtol=1e-12, atol=1e-15)
    assert np.all((g == 0) == (g0 == 0))  # the same rows get no gradient (one-document, no-relevant queries)


def test_edge_cases_get_zero_gradients_on_the_gpu():
    # One-document query, all labels equal, no relevant document: zero, as the CPU kernel's documented policy.
    ptr = np.array([0, 1, 3, 5])
    y = np.array([2.0, 1.0, 1.0, 0.0, 0.0])
    s = np.array([0.3, 0.1, 0.2, 0.5, -0.5])
    for name in ("lambdarank", "ranknet", "listnet"):
        g, h = kc.grad_hess(name, s, y, ptr)
        assert g.tolist() == [0.0] * 5 and h.tolist() == [0.0] * 5, name


def test_hand_computed_ranknet_pair():
    # Two documents with equal scores, the first relevant: p = 1/2, gradients -+sigma/2, hessians sigma^2/4.
    g, h = kc.grad_hess("ranknet", [0.0, 0.0], [1, 0], [0, 2], sigma=2.0)
    assert g.tolist() == [-1.0, 1.0] and h.tolist() == [1.0, 1.0]


def test_xgboost_objective_returns_device_arrays_equal_to_the_cpu_kernel():
    s, y, ptr, _ = _data(3)
    fobj = kc.xgboost_objective("lambdarank", ptr, labels=y, mode="xgboost")
    preds = s.astype(np.float32)  # XGBoost hands float32 margins to a custom objective
    d_grad, d_hess = fobj(preds, None)
    assert not isinstance(d_grad, np.ndarray) and hasattr(d_grad, "copy_to_host")
    g0, h0 = get_kernel("lambdarank").grad_hess(preds.astype(np.float64), y, ptr, mode="xgboost")
    assert np.array_equal(d_grad.copy_to_host(), g0) and np.array_equal(d_hess.copy_to_host(), h0)
    assert fobj.n_rounds == 1


def test_bad_input_is_refused_as_on_the_cpu():
    with pytest.raises(ValueError, match="no CUDA kernel for 'distill'"):
        kc.grad_hess("distill", [0.0], [1.0], [0, 1])
    with pytest.raises(ValueError, match="integer relevance labels"):
        kc.grad_hess("lambdarank", [0.0, 1.0], [0.5, 1.0], [0, 2])
    with pytest.raises(ValueError, match="scores must have shape"):
        kc.grad_hess("ranknet", [0.0], [1.0, 0.0], [0, 2])


def _cuda_device_present() -> bool:
    # In a subprocess: this module runs numba's simulator, which cannot also talk to a real device; without the
    # simulator's variable there (trial t69: set, as ltr.kernels.cuda says to, the simulator answered one GPU).
    code = "from numba import cuda; import sys; sys.exit(0 if cuda.is_available() and len(cuda.gpus) else 1)"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, env=env).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.slow
def test_on_a_real_gpu_xgboost_trains_with_device_gradients_and_the_kernels_match_the_cpu(tmp_path):
    if not _cuda_device_present():
        pytest.skip("no CUDA device: the device-resident XGBoost objective needs an NVIDIA GPU and numba-cuda")
    script = tmp_path / "gpu_check.py"
    script.write_text(
        "import numpy as np, xgboost as xgb\n"
        "from ltr import make_ranking\n"
        "from ltr.kernels import cuda as kc\n"
        "from ltr.objectives import xgboost_objective\n"
        "from ltr.metrics import evaluate\n"
        "d = make_ranking(200, 20, 10, random_state=0)\n"
        "p = {'device': 'cuda', 'tree_method': 'hist', 'base_score': 0.0, 'max_depth': 4}\n"
        "res = []\n"
        "for obj in (kc.xgboost_objective('lambdarank', d.group_ptr, labels=d.y, mode='xgboost'),\n"
        "            xgboost_objective('lambdarank', d.group_ptr, labels=d.y, mode='xgboost')):\n"
        "    dm = xgb.DMatrix(d.X, d.y, group=d.group_sizes)\n"
        "    b = xgb.train(p, dm, 20, obj=obj)\n"
        "    res.append(evaluate(d.y, b.predict(dm, output_margin=True), group_ptr=d.group_ptr,\n"
        "                        metrics=['ndcg@10'])['ndcg@10'])\n"
        "assert abs(res[0] - res[1]) < 1e-3, res\n"
        "from ltr.kernels import get_kernel\n"
        "s = np.random.default_rng(0).standard_normal(d.n_rows)\n"
        "for m in ('exact', 'lightgbm', 'xgboost'):\n"
        "    g, h = kc.grad_hess('lambdarank', s, d.y, d.group_ptr, mode=m)\n"
        "    g0, h0 = get_kernel('lambdarank').grad_hess(s, d.y, d.group_ptr, mode=m)\n"
        "    # the device's exp/log2 may differ from the host's in the last bit (module docstring)\n"
        "    np.testing.assert_allclose(g, g0, rtol=1e-6, atol=1e-12)\n"
        "    np.testing.assert_allclose(h, h0, rtol=1e-6, atol=1e-12)\n"
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]


def test_exact_lambdarank_with_scores_far_apart_matches_the_cpu_kernel_under_the_simulator():
    """Two documents far below the query's top and more than 709/sigma apart: the CPU (and a device) take exp's inf,
    p = 0; the simulator's Python math.exp raised OverflowError (trial t53/losses)."""
    s = np.array([0.0, -800.0, -1600.0])
    y = np.array([0.0, 1.0, 0.0])
    ptr = np.array([0, 3], dtype=np.int64)
    cpu_g, cpu_h = get_kernel("lambdarank").grad_hess(s, y, ptr)
    sim_g, sim_h = kc.grad_hess("lambdarank", s, y, ptr)
    np.testing.assert_allclose(sim_g, cpu_g, rtol=1e-12, atol=0)
    np.testing.assert_allclose(sim_h, cpu_h, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name, first", [("ranknet", [-np.inf, -np.inf, 0.0]), ("ranknet", [np.nan, 0.0, 1.0]),
                                         ("pointwise", [-np.inf, -np.inf, 0.0]), ("listnet", [np.nan, 0.0, 1.0]),
                                         ("lambdarank", [np.nan, 0.0, 1.0])])
def test_the_engines_initial_scores_are_checked_as_the_cpu_objective_checks_them(name, first):
    """The CUDA objective took the first round's scores unchecked: NaN or -inf gradients, and lambdarank, given a
    NaN, read an order slot never written (an IndexError under the simulator, a read past the buffer on a GPU)."""
    from numba import cuda

    y, ptr = np.array([1.0, 0.0, 2.0]), np.array([0, 3])
    for scores in (np.array(first), cuda.to_device(np.array(first))):  # host or device margins
        fobj = kc.xgboost_objective(name, ptr, labels=y)
        with pytest.raises(ValueError, match=r"scores must be .*; row 0 is (NaN|-inf)"):
            fobj(scores, None)
    fobj = kc.xgboost_objective("lambdarank", ptr, labels=y)  # -inf is lambdarank's to leave out of every pair
    assert fobj(np.array([-np.inf, -np.inf, 0.0]), None)[0].copy_to_host().tolist() == [0.0, 0.0, 0.0]
