"""``ltr doctor``: what this machine offers (CPU threads, Numba, OpenCL and CUDA devices, the engines' GPU learners)
and what to install or configure where a GPU path does not work (:func:`ltr.gpu.doctor`)."""

from __future__ import annotations

import argparse

from ltr.cli._files import emit
from ltr.cli._guard import add_command
from ltr.cli._options import add_format, seconds

__all__ = ["register", "run"]


def register(sub) -> None:
    p = add_command(sub, "doctor", "what this machine offers: CPU threads, Numba, OpenCL and CUDA devices, whether "
                                   "LightGBM's GPU learner and XGBoost's CUDA work, which extras are installed, and "
                                   "what to install")
    p.add_argument("--timeout", type=seconds, default=60.0, metavar="SECONDS",
                   help="time each GPU trial (one round of LightGBM / XGBoost, a numba-cuda kernel) may take, in a "
                        "child process")
    p.add_argument("--no-trials", action="store_true", dest="no_trials",
                   help="only look for devices; do not try the engines' GPU learners")
    add_format(p, ("table", "json"))
    p.set_defaults(func=run)


def _status(part: dict) -> str:
    if "ok" not in part:
        return "-"
    return "works" if part["ok"] else "no"


#: The optional extras: what each is for, and the distributions that make it (read from the installed packages'
#: metadata, never imported: torch alone takes seconds).
EXTRAS = (("tune", "ltr tune", ("optuna",)), ("plot", "ltr report's plots", ("matplotlib",)),
          ("dask", "--dask", ("dask", "distributed")), ("neural", "neural scorers", ("sentence-transformers", "torch")))


def extras() -> dict[str, dict]:
    """``{extra: {"for": ..., "versions": {distribution: version or None}, "installed": bool}}``."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name, used_by, dists in EXTRAS:
        versions = {}
        for d in dists:
            try:
                versions[d] = version(d)
            except PackageNotFoundError:
                versions[d] = None
        out[name] = {"for": used_by, "versions": versions, "installed": all(versions.values())}
    return out


def run(args: argparse.Namespace) -> int:
    from ltr.gpu import doctor

    r = doctor(timeout=args.timeout, trials=not args.no_trials)
    cpu, cl, cu = r["cpu"], r["opencl"], r["cuda"]
    platforms = "; ".join(f"{p['id']}: {p['name']} ({', '.join(d['type'] + ' ' + d['name'] for d in p['devices'])})"
                          for p in cl["platforms"]) or cl.get("error") or "none"
    devices = ", ".join(f"{d['name']} ({d['memory_gib']} GiB)" for d in cu["devices"]) or cu.get("error") or "none"
    cores, threads = cpu["usable_cores"], cpu["numba_threads"]
    rows = [
        ["CPU", f"{cores} usable core{'s' * (cores != 1)}", f"of {cpu['os_cpus']}; Numba {cpu['numba']}, {threads} "
                                                            f"thread{'s' * (threads != 1)}, "
                                                            f"{cpu['threading_layer'] or 'no'} threading layer"],
        ["OpenCL", f"{len(cl['platforms'])} platform(s)", platforms],
        ["CUDA", f"{len(cu['devices'])} device(s)", devices + (f"; driver {cu['driver_version']}"
                                                              if cu.get("driver_version") else "")],
        ["LightGBM GPU learner", _status(r["lightgbm_gpu"]),
         f"{cl.get('lightgbm_device') or 'no OpenCL GPU device'}; {r['lightgbm_gpu'].get('detail', 'not tried')}"],
        ["XGBoost CUDA", _status(r["xgboost_cuda"]), f"built with CUDA: {r['xgboost_cuda']['built_with_cuda']}; "
                                                      f"{r['xgboost_cuda'].get('detail', 'not tried')}"],
        ["numba-cuda", _status(r["numba_cuda"]), f"{r['numba_cuda']['version'] or 'not installed'}; "
                                                  f"{r['numba_cuda'].get('detail', 'not tried')}"],
        ["CuPy", _status(r["cupy"]), f"{r['cupy']['version'] or 'not installed'}; "
                                      f"{r['cupy'].get('detail', 'not tried')}"],
    ]
    from ltr.registry import rar_unpacker

    r["unpacker"] = rar_unpacker()
    rar = r["unpacker"]
    rows.append(["RAR unpacker", "found" if rar["tool"] else "no",
                 f"ltr data fetch of {', '.join(rar['sets']) or 'a set'} (.rar): "
                 + (f"{rar['tool']} ({rar['path']})" if rar["tool"] else
                    "none of unrar, 7z, bsdtar: apt-get install unrar (or 7zip, or libarchive-tools for bsdtar)")])
    r["extras"] = extras()
    for name, e in r["extras"].items():
        found = ", ".join(f"{d} {v}" for d, v in e["versions"].items() if v)
        rows.append([f"extra {name}", "installed" if e["installed"] else "no",
                     f"{e['for']}: {found}" if e["installed"] else
                     f"{e['for']}: pip install \"ltrkit[{name}]\"" + (f" (found: {found})" if found else "")])
    footer = "\n".join(["to do:", *(f"- {a}" for a in r["advice"])]) if r["advice"] else "every GPU path works"
    emit(args, ["component", "status", "detail"], rows, r, footer=footer)
    return 0
