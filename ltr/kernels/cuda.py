r"""The ranking losses of :mod:`ltr.kernels` as CUDA kernels (NVIDIA's ``numba-cuda``), one block per query.

The CPU kernels' Python side validates and precomputes (``prepare``: labels, gains, ``1/IDCG@k``, discounts,
LightGBM's sigmoid table, weights); this module copies that state to the device once and runs each boosting
round there. Inside a block of threads (one block per query):

- ``lambdarank``: each thread ranks its documents by counting the documents that precede them (score
  descending, ties by input position: the CPU kernel's stable order), then owns a rank position and sums that
  document's pair contributions itself, **in the CPU kernel's pair order** (first the pairs in which it is the
  lower-ranked document, by ascending rank of the other, then its own pairs, by ascending rank). No atomics: each
  gradient is the same sequence of floating-point operations as on the CPU, so ``mode="lightgbm"`` and
  ``mode="xgboost"`` keep their float32 accumulation bit for bit. The normalisation sum :math:`S` is a single
  running sum over all pairs on the CPU: the parity modes recompute it in that order in one thread per query
  (exact); ``mode="exact"`` adds per-rank partial sums (equal to the CPU's up to round-off).
- ``ranknet``: a thread per document, pairs in the CPU kernel's order (exact).
- ``listnet``: the softmax maximum and sum in one thread per query (the CPU's order), then a thread per document.
- ``pointwise``: a thread per row.

Equality with the CPU kernels is then exact up to the device's ``exp``/``log2``: CUDA's double-precision ``exp``
and ``log2`` are within 1 ulp but not always the host libm's result, so on a real GPU "exact" means equal to
round-off, and the parity modes equal to the CPU's bit for bit except where one of those calls differs in its
last bit (the lightgbm mode reads ``exp`` from its table and calls ``log2`` once per query). Under Numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``, how the tests run without a GPU) the same Python ``math`` functions run and
the results are identical, but for ``mode="exact"`` with ``norm=True``, whose per-rank partial sums of :math:`S`
differ from the CPU's running sum in the last bits (8 ulp seen in a trial).

Entry points: :func:`grad_hess` (host arrays in and out, for tests and scripts), :func:`prepare` (state kept on
the device; :meth:`CudaObjective.compute` writes device arrays) and :func:`xgboost_objective`, a custom objective
for ``xgboost.train(obj=...)`` with ``device="cuda"`` that returns CUDA arrays: XGBoost takes any object with
``__cuda_array_interface__`` as gradients, so they never cross to the host. (XGBoost 3.2's ``Booster.update``
hands a custom objective host predictions; those cross to the device once per round, one float32 per row.)
``ltr.Ranker(engine="xgboost", kernel="numba", device="gpu")`` uses it.

Examples
--------
Without a GPU, set ``NUMBA_ENABLE_CUDASIM=1`` (or ``numba.config.ENABLE_CUDASIM = True``) before ``numba.cuda`` is
first imported; ``tests/test_kernels_cuda.py`` runs this way.

>>> g, h = grad_hess("ranknet", [0.0, 0.0], [1, 0], [0, 2])  # doctest: +SKIP
>>> g.tolist(), h.tolist()  # doctest: +SKIP
([-0.5, 0.5], [0.25, 0.25])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["CUDA_KERNELS", "CudaObjective", "cuda_module", "grad_hess", "prepare", "xgboost_objective"]

#: The kernels with a CUDA version (``logistic`` is pointwise with ``loss="logistic"``).
CUDA_KERNELS: tuple[str, ...] = ("lambdarank", "listnet", "pointwise", "ranknet")
_ALIASES = {"logistic": ("pointwise", {"loss": "logistic"})}
_INSTALL = 'pip install "ltrkit[gpu]" (NVIDIA\'s numba-cuda; the CUDA simulator needs no GPU: NUMBA_ENABLE_CUDASIM=1)'


def cuda_module():
    """``numba.cuda`` from the ``numba-cuda`` package; ImportError with the install line when it is missing."""
    try:
        from numba import cuda
    except ImportError as e:  # pragma: no cover - numba without its CUDA target
        raise ImportError(f"the GPU kernels need numba's CUDA target: {_INSTALL}") from e
    return cuda


def _simulated() -> bool:
    import numba

    return bool(numba.config.ENABLE_CUDASIM)


def _kernels(simulated: bool) -> dict[str, Any]:
    """The kernels (defined on first use; Numba compiles each at its first launch)."""
    cuda_module()  # the install line when numba's CUDA target is missing
    from ltr.kernels._cuda_kernels import KERNELS

    return KERNELS

def _threads(simulated: bool) -> int:
    # The simulator runs each thread of a block as a Python thread: few of them keep the tests fast.
    return 4 if simulated else 128


class CudaObjective:
    """A kernel's state on the device for one training set; build it with :func:`prepare`.

    :meth:`compute` takes device scores and writes device gradients; :meth:`grad_hess_host` is the same on host
    arrays. Like the CPU objects, one instance serves one training at a time (it keeps device scratch buffers).
    """

    def __init__(self, name: str, cpu, options: dict):
        self.name = name
        self.cpu = cpu  # the CPU kernel's prepared state: validated input and every score-free table
        self.options = dict(options)
        self.n_rows = int(cpu.n_rows)
        self.simulated = _simulated()
        self._k = _kernels(self.simulated)
        cuda = cuda_module()
        if not self.simulated and not cuda.is_available():  # numba's own error is its driver's, lines of it
            from ltr.gpu import GPUNotAvailableError

            raise GPUNotAvailableError(
                "no CUDA device here for ltr.kernels.cuda (numba-cuda finds no driver or device); `ltr doctor` says "
                "what the machine offers and what to install; without a GPU, Numba's CUDA simulator runs these "
                "kernels (NUMBA_ENABLE_CUDASIM=1 before numba.cuda is first imported)")
        self._cuda = cuda
        ptr = np.ascontiguousarray(cpu.group_ptr, dtype=np.int64)
        self.n_queries = ptr.size - 1
        self.threads = _threads(self.simulated)
        self.d_ptr = cuda.to_device(ptr)
        w = np.ascontiguousarray(cpu.weight, dtype=np.float64)
        self.d_weight = cuda.to_device(w if w.size else np.zeros(0))
        n = self.n_rows
        if name == "lambdarank":
            self.round32 = cpu.mode == 2  # XGBoost ranks float32 predictions
            self.d_labels = cuda.to_device(np.ascontiguousarray(cpu.labels, dtype=np.int32))
            self.d_gains = cuda.to_device(np.ascontiguousarray(cpu.gains, dtype=np.float64))
            self.d_inv = cuda.to_device(np.ascontiguousarray(cpu.inv_max_dcg, dtype=np.float64))
            self.d_disc = cuda.to_device(np.ascontiguousarray(cpu.discount, dtype=np.float64))
            table = cpu.table if cpu.table.size else np.zeros(1)
            self.d_table = cuda.to_device(np.ascontiguousarray(table, dtype=np.float64))
            self.d_order = cuda.device_array(n, dtype=np.int32)
            self.d_ls = cuda.device_array(n, dtype=np.int32)
            self.d_scratch = [cuda.device_array(n, dtype=np.float64) for _ in range(6)]
        else:
            self.round32 = False
            self.d_labels = cuda.to_device(np.ascontiguousarray(cpu.labels, dtype=np.float64))
        self.d_scores = cuda.device_array(n, dtype=np.float64)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"CudaObjective({self.name!r}{', ' if opts else ''}{opts})"

    def _launch(self, d_scores, d_grad, d_hess) -> None:
        k, c = self._k, self.cpu
        if self.n_rows == 0:
            return
        if self.name == "pointwise":
            blocks = (self.n_rows + 255) // 256
            k["pointwise"][blocks, 256](d_scores, self.d_labels, self.d_weight, c.kind, d_grad, d_hess)
        elif self.name == "ranknet":
            k["ranknet"][self.n_queries, self.threads](d_scores, self.d_labels, self.d_ptr, self.d_weight, c.sigma,
                                                       d_grad, d_hess)
        elif self.name == "listnet":
            k["listnet"][self.n_queries, self.threads](d_scores, self.d_labels, self.d_ptr, self.d_weight, c.target,
                                                       d_grad, d_hess)
        else:
            ss, gs, es, rowsum, gacc, hacc = self.d_scratch
            k["lambdarank"][self.n_queries, self.threads](
                d_scores, self.d_labels, self.d_gains, self.d_ptr, self.d_weight, self.d_inv, self.d_disc, c.mode,
                c.sigma, c.truncation_level, c.norm, self.d_table, c.t_min, c.t_max, c.t_factor, c.w_norm,
                self.d_order, ss, self.d_ls, gs, es, rowsum, gacc, hacc, d_grad, d_hess)

    def scores_to_device(self, scores) -> Any:
        """Copy host or device scores of any float dtype into the reused float64 device buffer."""
        cuda = self._cuda
        if cuda.is_cuda_array(scores) if hasattr(cuda, "is_cuda_array") else False:
            src = cuda.as_cuda_array(scores).reshape(-1)
        else:
            host = np.asarray(scores).reshape(-1)
            if host.dtype not in (np.float32, np.float64):
                host = host.astype(np.float64)
            src = cuda.to_device(np.ascontiguousarray(host))
        if src.size != self.n_rows:
            raise ValueError(f"got {src.size} scores for the {self.n_rows} training rows")
        blocks = (self.n_rows + 255) // 256
        self._k["to_float64"][blocks, 256](src, self.d_scores, self.round32)
        return self.d_scores

    def compute(self, d_scores, d_grad, d_hess) -> None:
        """Gradients and hessians of device float64 scores into device float64 arrays (no host transfer)."""
        self._launch(d_scores, d_grad, d_hess)

    def grad_hess_host(self, scores: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Host scores in, host ``(grad, hess)`` out (float64)."""
        from ltr.kernels._common import as_scores

        s = as_scores(scores, self.n_rows, minus_inf=self.name == "lambdarank")
        d_scores = self.scores_to_device(s)
        cuda = self._cuda
        d_grad = cuda.device_array(self.n_rows, dtype=np.float64)
        d_hess = cuda.device_array(self.n_rows, dtype=np.float64)
        self._launch(d_scores, d_grad, d_hess)
        return d_grad.copy_to_host(), d_hess.copy_to_host()


def _resolve(name: str, options: dict) -> tuple[str, dict]:
    kernel, fixed = _ALIASES.get(name, (name, {}))
    if kernel not in CUDA_KERNELS:
        raise ValueError(f"no CUDA kernel for {name!r}; CUDA kernels exist for {sorted((*CUDA_KERNELS, *_ALIASES))} "
                         "(the others run on the CPU: device='cpu')")
    return kernel, {**fixed, **options}


def prepare(name: str, labels: ArrayLike, group_ptr: ArrayLike, *, weight: ArrayLike | None = None,
            **options: Any) -> CudaObjective:
    """Validate with the CPU kernel's ``prepare`` (same options, same errors) and copy its state to the device.

    Parameters
    ----------
    name : {"lambdarank", "listnet", "pointwise", "ranknet", "logistic"}
        ``"logistic"`` is the CPU kernel ``"pointwise"`` with ``loss="logistic"`` (no CPU kernel has that name).
    labels, group_ptr, weight, **options
        As the CPU kernel of that name (:mod:`ltr.kernels`), e.g. ``mode="lightgbm"`` for lambdarank.
    """
    from ltr.kernels import get_kernel

    kernel, options = _resolve(name, options)
    cpu = get_kernel(kernel).prepare(labels, group_ptr, weight=weight, **options)
    return CudaObjective(kernel, cpu, options)


def grad_hess(name: str, scores: ArrayLike, labels: ArrayLike, group_ptr: ArrayLike, *,
              weight: ArrayLike | None = None, **options: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gradients and hessians computed on the GPU (or Numba's CUDA simulator), returned as host float64 arrays.

    The same values as ``ltr.kernels.get_kernel(name).grad_hess(scores, labels, group_ptr, **options)``, and for
    ``"logistic"`` as ``get_kernel("pointwise").grad_hess(..., loss="logistic")`` (see the module docstring for where
    the device's ``exp``/``log2`` may differ in the last bit).

    Parameters
    ----------
    name : {"lambdarank", "listnet", "pointwise", "ranknet", "logistic"}
        ``"logistic"``: the pointwise kernel with ``loss="logistic"``.
    scores, labels : array-like of shape (n_rows,)
    group_ptr : array-like of int64, shape (n_queries + 1,)
    weight : array-like of shape (n_rows,) or (n_queries,), optional
    **options
        The CPU kernel's options.

    Returns
    -------
    grad, hess : ndarray of float64, shape (n_rows,)
    """
    return prepare(name, labels, group_ptr, weight=weight, **options).grad_hess_host(scores)


def xgboost_objective(objective: str, group_ptr: ArrayLike, *, labels: ArrayLike, weight: ArrayLike | None = None,
                      **options: Any):
    """A custom objective for ``xgboost.train(obj=...)`` with ``device="cuda"`` that returns CUDA arrays.

    ``obj(predt, dtrain) -> (grad, hess)``: the predictions go to the device, the kernel runs there, and the
    gradients stay there (numba device arrays, which XGBoost reads through ``__cuda_array_interface__``).
    Parameters as :func:`prepare`; ``labels`` are required (read once, here, not from the DMatrix).
    """
    obj = prepare(objective, labels, group_ptr, weight=weight, **options)
    cuda = obj._cuda
    d_grad = cuda.device_array(obj.n_rows, dtype=np.float64)
    d_hess = cuda.device_array(obj.n_rows, dtype=np.float64)

    def fobj(predt, dtrain=None):
        if fobj.n_rounds == 0:  # the engine's initial scores, checked once as the CPU objective checks them: a NaN
            # gave lambdarank an order slot never written and a read past its buffer (trial t57)
            from ltr.kernels import check_scores

            is_device = cuda.is_cuda_array(predt) if hasattr(cuda, "is_cuda_array") else False
            check_scores(obj.name, cuda.as_cuda_array(predt).copy_to_host() if is_device else predt, obj.n_rows)
        fobj.n_rounds += 1
        obj.compute(obj.scores_to_device(predt), d_grad, d_hess)
        return d_grad, d_hess

    fobj.n_rounds = 0
    fobj.objective = obj
    return fobj
