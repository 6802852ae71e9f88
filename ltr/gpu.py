"""What GPUs the engines can use: OpenCL platforms and devices (LightGBM's ``gpu`` learner) and CUDA devices (XGBoost,
the CUDA kernels), found with tiny ``ctypes`` probes of the system libraries, and the device choice of
:class:`ltr.Ranker`.

The probes run in a child process (this file run as a script, standard library only) with a timeout, so a broken
driver can neither crash nor hang the caller; the result is cached per process.

``Ranker(device=...)``:

==============  ===============================================================================================
``"cpu"``       the CPU learners
``"gpu"``       LightGBM's OpenCL ``gpu`` learner on the first OpenCL platform that has a GPU device (not a CPU
                OpenCL such as PoCL; ``gpu_platform_id``/``gpu_device_id`` in ``engine_params`` choose another), or
                XGBoost with ``device="cuda"``; where none works, :class:`GPUNotAvailableError` names what was found
                (the same report as ``ltr doctor``). XGBoost on its own would silently train on the CPU.
``"gpu-or-cpu"`` the same, but with no usable GPU it logs a warning and trains on the CPU; ``Ranker.device_``
                says which ran.
==============  ===============================================================================================

Notes for NVIDIA's OpenCL: the ICD loader (Debian's ``ocl-icd-libopencl1``) must be installed and
``/etc/OpenCL/vendors/nvidia.icd`` must name ``libnvidia-opencl.so.1`` (the driver ships the library; containers
often lack the ``.icd`` file).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["DEVICE_CHOICES", "GPUNotAvailableError", "cuda_devices", "doctor", "engine_device_params", "opencl_gpu",
           "opencl_platforms", "probe", "summary"]

logger = logging.getLogger(__name__)

DEVICE_CHOICES = ("cpu", "gpu", "gpu-or-cpu")
VENDORS_DIR = Path("/etc/OpenCL/vendors")
_PROBE_TIMEOUT_S = 30

# OpenCL constants (Khronos cl.h).
_CL_PLATFORM_VERSION, _CL_PLATFORM_NAME, _CL_PLATFORM_VENDOR = 0x0901, 0x0902, 0x0903
_CL_DEVICE_TYPE, _CL_DEVICE_NAME = 0x1000, 0x102B
_CL_DEVICE_TYPE_ALL = 0xFFFFFFFF
_CL_TYPES = {1 << 1: "cpu", 1 << 2: "gpu", 1 << 3: "accelerator", 1 << 0: "default", 1 << 4: "custom"}


class GPUNotAvailableError(RuntimeError):
    """``device="gpu"`` was asked for and no usable GPU was found; the message says what was found, worded for
    Python (``device='cpu'``) or, by :meth:`cli_message`, for the command line (``--device cpu``)."""

    # ltr.exceptions.CommandLineWorded's two lines, not that class: this file also runs as a standard-library-only
    # child process (probe()), which imports nothing of ltr
    def __init__(self, message: str, *, cli: str | None = None):
        self.cli = cli
        super().__init__(message)

    def cli_message(self) -> str:
        return self.cli if self.cli is not None else str(self)


# -- probes (standard library only: this file also runs as a script in a child process) ---------------------------
def _load(names: tuple[str, ...]):
    for name in names:
        try:
            return ctypes.CDLL(name), name
        except OSError:
            continue
    return None, None


def _cl_string(fn, handle, param: int) -> str:
    size = ctypes.c_size_t(0)
    if fn(handle, param, 0, None, ctypes.byref(size)) != 0 or size.value == 0:
        return ""
    buf = ctypes.create_string_buffer(size.value)
    if fn(handle, param, size, buf, None) != 0:
        return ""
    return buf.value.decode("utf-8", "replace").strip()


def _probe_opencl() -> dict:
    """OpenCL platforms in the order LightGBM numbers them (``gpu_platform_id``), each with its devices."""
    icds = sorted(str(p) for p in VENDORS_DIR.glob("*.icd")) if VENDORS_DIR.is_dir() else []
    icd_libs = {}
    for p in icds:
        try:
            icd_libs[p] = Path(p).read_text().strip()
        except OSError:
            icd_libs[p] = "?"
    out: dict = {"loader": None, "icd_files": icd_libs, "platforms": [], "error": None}
    found = ctypes.util.find_library("OpenCL")
    lib, name = _load(("libOpenCL.so.1", *((found,) if found else ())))
    if lib is None:
        out["error"] = "no OpenCL ICD loader (libOpenCL.so.1)"
        return out
    out["loader"] = name
    u32 = ctypes.c_uint32
    n = u32(0)
    rc = lib.clGetPlatformIDs(0, None, ctypes.byref(n))
    if rc != 0 or n.value == 0:  # -1001: CL_PLATFORM_NOT_FOUND_KHR, the loader found no .icd that loads
        out["error"] = f"the OpenCL loader found no platform (error {rc})"
        return out
    plats = (ctypes.c_void_p * n.value)()
    lib.clGetPlatformIDs(n, plats, None)
    lib.clGetPlatformInfo.argtypes = [ctypes.c_void_p, u32, ctypes.c_size_t, ctypes.c_void_p,
                                      ctypes.POINTER(ctypes.c_size_t)]
    lib.clGetDeviceInfo.argtypes = lib.clGetPlatformInfo.argtypes
    lib.clGetDeviceIDs.argtypes = [ctypes.c_void_p, ctypes.c_uint64, u32, ctypes.c_void_p, ctypes.POINTER(u32)]
    for i, p in enumerate(plats):
        plat = {"id": i, "name": _cl_string(lib.clGetPlatformInfo, p, _CL_PLATFORM_NAME),
                "vendor": _cl_string(lib.clGetPlatformInfo, p, _CL_PLATFORM_VENDOR),
                "version": _cl_string(lib.clGetPlatformInfo, p, _CL_PLATFORM_VERSION), "devices": []}
        nd = u32(0)
        if lib.clGetDeviceIDs(p, _CL_DEVICE_TYPE_ALL, 0, None, ctypes.byref(nd)) == 0 and nd.value:
            devs = (ctypes.c_void_p * nd.value)()
            lib.clGetDeviceIDs(p, _CL_DEVICE_TYPE_ALL, nd, devs, None)
            for j, d in enumerate(devs):
                kind = ctypes.c_uint64(0)
                lib.clGetDeviceInfo(d, _CL_DEVICE_TYPE, ctypes.sizeof(kind), ctypes.byref(kind), None)
                types = [t for bit, t in _CL_TYPES.items() if kind.value & bit]
                plat["devices"].append({"id": j, "name": _cl_string(lib.clGetDeviceInfo, d, _CL_DEVICE_NAME),
                                        "type": types[0] if types else "unknown"})
        out["platforms"].append(plat)
    return out


def _probe_cuda() -> dict:
    """CUDA devices through the driver library (what XGBoost and numba-cuda need)."""
    out: dict = {"driver": None, "driver_version": None, "devices": [], "error": None}
    lib, name = _load(("libcuda.so.1", "libcuda.so"))
    if lib is None:
        out["error"] = "no NVIDIA driver library (libcuda.so.1)"
        return out
    out["driver"] = name
    rc = lib.cuInit(0)
    if rc != 0:
        out["error"] = f"cuInit failed (CUDA error {rc}: {'no device' if rc == 100 else 'driver problem'})"
        return out
    v = ctypes.c_int(0)
    if lib.cuDriverGetVersion(ctypes.byref(v)) == 0:
        out["driver_version"] = f"{v.value // 1000}.{v.value % 1000 // 10}"
    n = ctypes.c_int(0)
    lib.cuDeviceGetCount(ctypes.byref(n))
    for i in range(n.value):
        dev = ctypes.c_int(0)
        lib.cuDeviceGet(ctypes.byref(dev), i)
        buf = ctypes.create_string_buffer(256)
        lib.cuDeviceGetName(buf, 256, dev)
        mem = ctypes.c_size_t(0)
        lib.cuDeviceTotalMem_v2(ctypes.byref(mem), dev)
        out["devices"].append({"id": i, "name": buf.value.decode("utf-8", "replace"),
                               "memory_gib": round(mem.value / 2**30, 1)})
    return out


def _probe_all() -> dict:
    nvidia = os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/nvidiactl")
    return {"opencl": _probe_opencl(), "cuda": _probe_cuda(), "nvidia_kernel_driver": nvidia}


@functools.lru_cache(maxsize=1)
def probe() -> dict:
    """``{"opencl": ..., "cuda": ..., "nvidia_kernel_driver": bool}``, probed once in a child process."""
    try:
        res = subprocess.run([sys.executable, "-I", str(Path(__file__).resolve())], capture_output=True, text=True,
                             timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        err = f"the GPU probe did not answer within {_PROBE_TIMEOUT_S} s (a hung driver?)"
        return {"opencl": {"platforms": [], "error": err, "icd_files": {}, "loader": None},
                "cuda": {"devices": [], "error": err}, "nvidia_kernel_driver": False}
    if res.returncode != 0 or not res.stdout.strip():
        err = f"the GPU probe failed (exit {res.returncode}: {(res.stderr.strip().splitlines() or ['?'])[-1]})"
        return {"opencl": {"platforms": [], "error": err, "icd_files": {}, "loader": None},
                "cuda": {"devices": [], "error": err}, "nvidia_kernel_driver": False}
    return json.loads(res.stdout)


def opencl_platforms() -> list[dict]:
    """OpenCL platforms (``id`` = LightGBM's ``gpu_platform_id``), each with ``devices`` (``id``, ``name``,
    ``type``: ``"gpu"``, ``"cpu"``...)."""
    return probe()["opencl"]["platforms"]


def cuda_devices() -> list[dict]:
    """CUDA devices the driver sees (``id``, ``name``, ``memory_gib``); empty without a driver or device."""
    return probe()["cuda"]["devices"]


def opencl_gpu(platforms: list[dict] | None = None) -> tuple[int, int, str] | None:
    """``(gpu_platform_id, gpu_device_id, description)`` of the first OpenCL GPU device, or None.

    A CPU OpenCL (PoCL, Intel's CPU runtime) is never chosen: LightGBM's GPU learner on it is slower than its CPU
    learner.

    Examples
    --------
    >>> pocl = {"id": 0, "name": "Portable Computing Language", "devices": [{"id": 0, "name": "cpu", "type": "cpu"}]}
    >>> nv = {"id": 1, "name": "NVIDIA CUDA", "devices": [{"id": 0, "name": "NVIDIA H100", "type": "gpu"}]}
    >>> opencl_gpu([pocl, nv])
    (1, 0, "OpenCL platform 1 'NVIDIA CUDA', device 0 'NVIDIA H100'")
    """
    for plat in opencl_platforms() if platforms is None else platforms:
        for dev in plat["devices"]:
            if dev["type"] == "gpu":
                return plat["id"], dev["id"], (f"OpenCL platform {plat['id']} {plat['name']!r}, device {dev['id']} "
                                               f"{dev['name']!r}")
    return None


def summary(report: dict | None = None) -> str:
    """One line: what the probes found (the text of :class:`GPUNotAvailableError`)."""
    r = probe() if report is None else report
    cl = r["opencl"]
    if cl["platforms"]:
        parts = [f"{p['name']!r} ({', '.join(d['type'] for d in p['devices']) or 'no devices'})"
                 for p in cl["platforms"]]
        ocl = "OpenCL platforms " + "; ".join(parts)
    else:
        ocl = f"OpenCL: {cl['error']}"
    cu = r["cuda"]
    cuda = ("CUDA devices " + ", ".join(d["name"] for d in cu["devices"])) if cu["devices"] else f"CUDA: {cu['error']}"
    return f"{ocl}; {cuda}"


def engine_device_params(engine: str, device: str, engine_params: dict | None = None) -> tuple[dict, str]:
    """The engine parameters that put training on ``device``, and the device that will run (``"gpu"``/``"cpu"``).

    Raises :class:`GPUNotAvailableError` for ``device="gpu"`` when the engine has no usable GPU here; with
    ``"gpu-or-cpu"`` it logs a warning and returns the CPU's (empty) parameters instead.

    Examples
    --------
    >>> engine_device_params("lightgbm", "cpu")
    ({}, 'cpu')
    """
    if device not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {device!r}; choose one of {list(DEVICE_CHOICES)}")
    if device == "cpu" or engine == "linear":
        return {}, "cpu"
    given = dict(engine_params or {})
    if engine == "lightgbm":
        if "gpu_platform_id" in given or "gpu_device_id" in given:  # the user's choice: LightGBM checks it
            return {"device_type": "gpu"}, "gpu"
        found = opencl_gpu()
        if found is not None:
            logger.info("LightGBM's GPU learner on %s", found[2])
            return {"device_type": "gpu", "gpu_platform_id": found[0], "gpu_device_id": found[1]}, "gpu"
        need = "OpenCL GPU device (LightGBM's gpu learner)"
    else:
        if cuda_devices():
            return {"device": "cuda"}, "gpu"
        need = "CUDA device (XGBoost)"
    found_text = summary()
    if device == "gpu-or-cpu":
        # worded for Python and the command line alike (device='gpu-or-cpu', --device gpu-or-cpu)
        _warn_once(f"device gpu-or-cpu: no {need} here (found: {found_text}); training on the CPU")
        return {}, "cpu"
    why = f"no {need} here; `ltr doctor` finds: {found_text}; run `ltr doctor` for what to install or configure, or use"
    raise GPUNotAvailableError(f"device='gpu': {why} device='gpu-or-cpu' (falls back to the CPU) or device='cpu'",
                               cli=f"--device gpu: {why} --device gpu-or-cpu (falls back to the CPU) or --device cpu")



def fallback_warning(engine: str, why: str) -> None:
    """The warning of ``device="gpu-or-cpu"`` when the engine could not train on the GPU it was given (a
    ``gpu_platform_id`` named, a device that failed): training goes on on the CPU."""
    _warn_once(f"device gpu-or-cpu: {engine} could not train on the GPU ({why}); training on the CPU")


@functools.cache
def _warn_once(message: str) -> None:
    """A fallback's warning, logged the first time only: every fold of a cross-validation falls back alike."""
    logger.warning("%s", message)


# -- ltr doctor ---------------------------------------------------------------------------------------------------
_LGB_TRIAL = """
import sys, numpy as np, lightgbm as lgb
rng = np.random.default_rng(0)
X = rng.random((500, 4)); y = rng.integers(0, 2, 500)
params = {"objective": "binary", "device_type": "gpu", "verbosity": -1, "num_threads": 1, **PARAMS}
lgb.train(params, lgb.Dataset(X, y), num_boost_round=1)
print("ok")
"""
_XGB_TRIAL = """
import warnings, numpy as np, xgboost as xgb
warnings.simplefilter("error")  # XGBoost falls back to the CPU with a warning: that is a failure here
rng = np.random.default_rng(0)
X = rng.random((500, 4)); y = rng.integers(0, 2, 500)
xgb.train({"device": "cuda", "tree_method": "hist", "nthread": 1}, xgb.DMatrix(X, y), 1)
print("ok")
"""
_NUMBA_CUDA_TRIAL = """
import numpy as np
from numba import cuda
@cuda.jit
def k(a):
    i = cuda.grid(1)
    if i < a.size:
        a[i] += 1
a = cuda.to_device(np.zeros(4))
k[1, 32](a)
assert a.copy_to_host().tolist() == [1.0] * 4
print("ok", cuda.get_current_device().name.decode() if isinstance(cuda.get_current_device().name, bytes) else
      cuda.get_current_device().name)
"""
_CUPY_TRIAL = """
import cupy
print("ok", cupy.cuda.runtime.getDeviceCount(), "device(s)")
"""


def _trial(code: str, timeout: float) -> dict:
    """Run ``code`` in a child process (a driver crash or hang cannot take the caller with it)."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    try:
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "detail": f"no answer within {timeout:g} s"}
    out = res.stdout.strip().splitlines()
    if res.returncode == 0 and out and out[-1].startswith("ok"):
        return {"ok": True, "detail": out[-1][2:].strip() or "works"}
    err = [line for line in res.stderr.strip().splitlines() if line.strip()]
    return {"ok": False, "detail": (err[-1] if err else f"exit code {res.returncode}")[:300]}


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def doctor(*, timeout: float = 60.0, trials: bool = True) -> dict:
    """What this machine offers the toolkit, and what to install or configure where something is missing.

    Returns ``{"cpu", "opencl", "cuda", "lightgbm_gpu", "xgboost_cuda", "numba_cuda", "cupy", "advice"}``. With
    ``trials``, LightGBM's GPU learner and XGBoost's CUDA each train one round on tiny data, and numba-cuda and
    CuPy run a kernel, each in a child process stopped after ``timeout`` seconds. ``ltr doctor`` prints it.
    """
    import numba

    from ltr.kernels import get_kernel
    from ltr.threads import cpu_count, threading_layer_error

    layer_error = None
    try:
        get_kernel("ranknet").grad_hess([0.0, 1.0], [1, 0], [0, 2])  # starts Numba's thread pool: the layer is known
        layer = numba.threading_layer()
    except ValueError as e:  # NUMBA_THREADING_LAYER naming one that cannot load: reported, not the doctor's failure
        layer_error = threading_layer_error(e)
        if layer_error is None:
            raise
        layer = None
    report: dict = {"cpu": {"usable_cores": cpu_count(), "os_cpus": os.cpu_count(), "numba": numba.__version__,
                            "numba_threads": numba.config.NUMBA_NUM_THREADS, "threading_layer": layer,
                            "threading_layer_error": layer_error}}
    found = probe()
    report["opencl"] = dict(found["opencl"])
    gpu = opencl_gpu(found["opencl"]["platforms"])
    report["opencl"]["lightgbm_device"] = gpu[2] if gpu else None
    report["cuda"] = dict(found["cuda"], nvidia_kernel_driver=found["nvidia_kernel_driver"])
    lgb_params = {} if gpu is None else {"gpu_platform_id": gpu[0], "gpu_device_id": gpu[1]}
    import lightgbm
    import xgboost

    report["lightgbm_gpu"] = {"version": lightgbm.__version__, "params": lgb_params}
    report["xgboost_cuda"] = {"version": xgboost.__version__,
                              "built_with_cuda": bool(xgboost.build_info().get("USE_CUDA", False))}
    report["numba_cuda"] = {"version": _version("numba-cuda")}
    report["cupy"] = {"version": next((v for d in ("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x")
                                       if (v := _version(d))), None)}
    if trials:
        report["lightgbm_gpu"].update(_trial(_LGB_TRIAL.replace("PARAMS", repr(lgb_params)), timeout))
        if found["cuda"]["devices"]:
            report["xgboost_cuda"].update(_trial(_XGB_TRIAL, timeout))
        else:
            report["xgboost_cuda"].update(ok=False, detail="not tried: no CUDA device")
        if report["numba_cuda"]["version"] and found["cuda"]["devices"]:
            report["numba_cuda"].update(_trial(_NUMBA_CUDA_TRIAL, timeout))
        else:
            report["numba_cuda"].update(ok=False, detail="not tried: " + (
                "no CUDA device" if report["numba_cuda"]["version"] else "not installed"))
        if report["cupy"]["version"] and found["cuda"]["devices"]:
            report["cupy"].update(_trial(_CUPY_TRIAL, timeout))
        else:
            report["cupy"].update(ok=False, detail="not tried: " + (
                "no CUDA device" if report["cupy"]["version"] else "not installed (optional)"))
    report["advice"] = advice(report)
    return report


def advice(report: dict) -> list[str]:
    """What to install or configure, from a :func:`doctor` report (empty when every GPU path works)."""
    out = []
    if layer := report.get("cpu", {}).get("threading_layer_error"):  # every Numba kernel fails so: first
        out.append(layer)
    cl, cu = report["opencl"], report["cuda"]
    nvidia = cu.get("nvidia_kernel_driver") or cu.get("driver")
    if cl.get("loader") is None:
        out.append("no OpenCL ICD loader (libOpenCL.so.1), through which ltrkit finds the GPU platform for "
                   "--device gpu: apt-get install ocl-icd-libopencl1, and the GPU vendor's OpenCL ICD (LightGBM's "
                   "wheel carries a loader of its own: with the vendor's ICD alone, name the platform with --param "
                   "gpu_platform_id=P)")
    elif not cl["platforms"] or report["opencl"].get("lightgbm_device") is None:
        if nvidia and not any("nvidia" in lib.lower() for lib in cl.get("icd_files", {}).values()):
            out.append("NVIDIA's OpenCL is not registered: echo libnvidia-opencl.so.1 > "
                       "/etc/OpenCL/vendors/nvidia.icd (the driver ships the library)")
        elif cl["platforms"]:
            out.append("only CPU OpenCL platforms (e.g. PoCL): LightGBM's GPU learner needs a GPU vendor's ICD")
        else:
            out.append("no OpenCL platform: install the GPU vendor's OpenCL ICD")
    if not cu["devices"]:
        out.append("no CUDA device: XGBoost's CUDA learner and the CUDA kernels need an NVIDIA GPU and its driver "
                   f"({cu.get('error')})")
    if report["numba_cuda"].get("version") is None:
        out.append('the CUDA kernels (ltr.kernels.cuda) need numba-cuda: pip install "ltrkit[gpu]"')
    if report["lightgbm_gpu"].get("ok") is False and report["opencl"].get("lightgbm_device"):
        out.append(f"LightGBM's GPU learner failed on {report['opencl']['lightgbm_device']}: "
                   f"{report['lightgbm_gpu'].get('detail')}")
    if cu["devices"] and report["xgboost_cuda"].get("ok") is False:
        out.append(f"XGBoost did not train on CUDA: {report['xgboost_cuda'].get('detail')}")
    return out

if __name__ == "__main__":  # the child process of probe()
    print(json.dumps(_probe_all()))
