"""Device discovery (ltr.gpu), the device choice of ltr.Ranker, and ``ltr doctor`` on a machine without a GPU.

Machines with several OpenCL platforms are described by fabricated probe results (the probe itself is a ctypes
call into libOpenCL / libcuda in a child process); the real probe runs too and must describe this machine.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr import gpu as g
from ltr.cli import main

NO_LOADER = {"opencl": {"loader": None, "icd_files": {}, "platforms": [], "error": "no OpenCL ICD loader "
                        "(libOpenCL.so.1)"},
             "cuda": {"driver": None, "driver_version": None, "devices": [],
                      "error": "no NVIDIA driver library (libcuda.so.1)"},
             "nvidia_kernel_driver": False}
POCL = {"id": 0, "name": "Portable Computing Language", "vendor": "The pocl project", "version": "OpenCL 3.0",
        "devices": [{"id": 0, "name": "cpu-haswell", "type": "cpu"}]}
NVIDIA = {"id": 1, "name": "NVIDIA CUDA", "vendor": "NVIDIA Corporation", "version": "OpenCL 3.0 CUDA",
          "devices": [{"id": 0, "name": "NVIDIA H100", "type": "gpu"}]}
POCL_AND_NVIDIA = {"opencl": {"loader": "libOpenCL.so.1", "icd_files": {"/etc/OpenCL/vendors/pocl.icd": "libpocl.so",
                                                                       "/etc/OpenCL/vendors/nvidia.icd":
                                                                           "libnvidia-opencl.so.1"},
                              "platforms": [POCL, NVIDIA], "error": None},
                   "cuda": {"driver": "libcuda.so.1", "driver_version": "12.4",
                            "devices": [{"id": 0, "name": "NVIDIA H100", "memory_gib": 79.1}], "error": None},
                   "nvidia_kernel_driver": True}


@pytest.fixture
def fake_probe(monkeypatch):
    def use(report):
        monkeypatch.setattr(g, "probe", lambda: report)
        g._warn_once.cache_clear()  # another machine: its fallback is said again (once per process otherwise)
    return use


def test_the_real_probe_describes_this_machine_in_a_child_process():
    r = g.probe()
    assert set(r) == {"opencl", "cuda", "nvidia_kernel_driver"}
    assert isinstance(r["opencl"]["platforms"], list) and isinstance(r["cuda"]["devices"], list)
    if not r["opencl"]["platforms"]:
        assert r["opencl"]["error"]  # a reason, never an empty answer
    if not r["cuda"]["devices"]:
        assert r["cuda"]["error"]
    assert g.summary(r).count(";") >= 1


def test_lightgbm_gets_the_gpu_platform_not_the_cpu_opencl(fake_probe):
    fake_probe(POCL_AND_NVIDIA)
    params, used = g.engine_device_params("lightgbm", "gpu")
    assert params == {"device_type": "gpu", "gpu_platform_id": 1, "gpu_device_id": 0} and used == "gpu"
    assert g.engine_device_params("xgboost", "gpu") == ({"device": "cuda"}, "gpu")


def test_only_a_cpu_opencl_counts_as_no_gpu(fake_probe):
    fake_probe({**POCL_AND_NVIDIA, "opencl": {**POCL_AND_NVIDIA["opencl"], "platforms": [POCL]}})
    assert g.opencl_gpu() is None
    with pytest.raises(g.GPUNotAvailableError, match="no OpenCL GPU device.*'Portable Computing Language' \\(cpu\\)"):
        g.engine_device_params("lightgbm", "gpu")


def test_the_users_platform_choice_is_kept(fake_probe):
    fake_probe(NO_LOADER)  # not even probed: LightGBM itself checks the ids the user gave
    assert g.engine_device_params("lightgbm", "gpu", {"gpu_platform_id": 2}) == ({"device_type": "gpu"}, "gpu")


def test_no_gpu_is_an_error_naming_what_doctor_found_unless_cpu_fallback_was_asked(fake_probe, caplog):
    fake_probe(NO_LOADER)
    for engine in ("lightgbm", "xgboost"):
        with pytest.raises(g.GPUNotAvailableError) as e:
            g.engine_device_params(engine, "gpu")
        msg = str(e.value)
        assert "ltr doctor" in msg and "no OpenCL ICD loader" in msg and "gpu-or-cpu" in msg and "\n" not in msg
        assert msg.startswith("device='gpu': ") and msg.endswith("device='gpu-or-cpu' (falls back to the CPU) or "
                                                                  "device='cpu'")
        cli = e.value.cli_message()  # ltr train --device gpu: the flags, not Python's arguments
        assert cli.startswith("--device gpu: ") and cli.endswith("--device gpu-or-cpu (falls back to the CPU) or "
                                                                  "--device cpu") and "device='" not in cli
        with caplog.at_level(logging.WARNING, logger="ltr.gpu"):
            assert g.engine_device_params(engine, "gpu-or-cpu") == ({}, "cpu")
        assert "training on the CPU" in caplog.text
    assert g.engine_device_params("linear", "gpu") == ({}, "cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        g.engine_device_params("lightgbm", "tpu")


def test_ranker_refuses_gpu_before_training_and_falls_back_only_when_asked(fake_probe):
    fake_probe(NO_LOADER)
    d = make_ranking(30, 8, 5, random_state=0)
    for engine in ("lightgbm", "xgboost"):
        with pytest.raises(g.GPUNotAvailableError, match="ltr doctor"):
            Ranker(engine=engine, device="gpu", n_estimators=3).fit(d)
        fell_back = Ranker(engine=engine, device="gpu-or-cpu", n_estimators=3, min_child_samples=2).fit(d)
        cpu = Ranker(engine=engine, device="cpu", n_estimators=3, min_child_samples=2).fit(d)
        assert fell_back.device_ == "cpu" and cpu.device_ == "cpu"
        np.testing.assert_array_equal(fell_back.predict(d), cpu.predict(d))


def test_the_fallback_is_said_once_not_for_every_model_trained(fake_probe, caplog):
    fake_probe(NO_LOADER)
    d = make_ranking(30, 8, 5, random_state=0)
    with caplog.at_level(logging.WARNING, logger="ltr.gpu"):
        for _ in range(3):  # as the folds of a cross-validation
            Ranker(device="gpu-or-cpu", n_estimators=2, min_child_samples=2).fit(d)
    said = [r.getMessage() for r in caplog.records if r.name == "ltr.gpu"]
    # one wording for Python and the command line ("device='gpu-or-cpu'" read as Python there; a trial)
    assert len(said) == 1 and said[0].startswith("device gpu-or-cpu: no OpenCL GPU device")
    assert said[0].endswith("; training on the CPU")


def test_a_gpu_learner_that_fails_surfaces_one_line_with_the_doctor(fake_probe, lightgbm_trains_on_a_gpu):
    if lightgbm_trains_on_a_gpu:  # pragma: no cover - a machine with a working OpenCL GPU
        pytest.skip("LightGBM's GPU learner works on this machine")
    fake_probe(POCL_AND_NVIDIA)  # claims a GPU platform that LightGBM cannot open here
    d = make_ranking(30, 8, 5, random_state=0)
    with pytest.raises(RuntimeError, match="could not train on the GPU.*ltr doctor"):
        Ranker(device="gpu", n_estimators=2).fit(d)


def test_advice_names_the_loader_the_nvidia_icd_and_the_gpu_extra():
    base = {"lightgbm_gpu": {}, "xgboost_cuda": {}, "numba_cuda": {"version": None}}
    r = dict(base, opencl=dict(NO_LOADER["opencl"], lightgbm_device=None), cuda=NO_LOADER["cuda"])
    text = " ".join(g.advice(r))
    assert "apt-get install ocl-icd-libopencl1" in text and "no CUDA device" in text and "ltrkit[gpu]" in text
    # NVIDIA driver present, loader present, no nvidia.icd: the one-line registration
    cl = {"loader": "libOpenCL.so.1", "icd_files": {}, "platforms": [], "error": "no platform",
          "lightgbm_device": None}
    r = dict(base, opencl=cl, cuda=dict(POCL_AND_NVIDIA["cuda"], nvidia_kernel_driver=True),
             numba_cuda={"version": "0.30"})
    assert any("/etc/OpenCL/vendors/nvidia.icd" in a and "libnvidia-opencl.so.1" in a for a in g.advice(r))


def test_doctor_json_on_this_machine(capsys, fake_probe):
    fake_probe(NO_LOADER)
    assert main(["doctor", "--format", "json", "--no-trials"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["cpu"]["usable_cores"] >= 1 and r["cpu"]["numba"]
    assert r["opencl"]["error"] == "no OpenCL ICD loader (libOpenCL.so.1)" and r["opencl"]["lightgbm_device"] is None
    assert r["cuda"]["devices"] == [] and r["xgboost_cuda"]["built_with_cuda"] in (True, False)
    assert any("ocl-icd-libopencl1" in a for a in r["advice"])


@pytest.mark.slow
def test_doctor_tries_the_lightgbm_gpu_learner_in_a_child_process(capsys, lightgbm_trains_on_a_gpu):
    if lightgbm_trains_on_a_gpu:  # pragma: no cover - a machine with a working OpenCL GPU
        pytest.skip("LightGBM's GPU learner works on this machine")
    assert main(["doctor", "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert "LightGBM GPU learner  no" in out and "to do:" in out


def test_cli_train_on_gpu_without_one_is_one_line_and_exit_1(tmp_path, capsys, fake_probe):
    from ltr.io import write_letor

    fake_probe(NO_LOADER)
    path = write_letor(tmp_path / "train.txt", make_ranking(20, 6, 4, random_state=0))
    assert main(["train", str(path), "--device", "gpu", "--out", str(tmp_path / "m.txt"), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ltr doctor" in err and not (tmp_path / "m.txt").exists()


def test_doctor_names_each_extra_installed_or_the_pip_command(capsys, fake_probe, monkeypatch):
    # ltr doctor said "what to install" for the GPU paths only: tune, plot, dask and neural were never mentioned
    from importlib.metadata import PackageNotFoundError, version

    fake_probe(NO_LOADER)
    assert main(["doctor", "--format", "json", "--no-trials"]) == 0
    extras = json.loads(capsys.readouterr().out)["extras"]
    assert extras["tune"]["versions"] == {"optuna": version("optuna")} and extras["tune"]["installed"]

    def without_optuna(name):
        if name == "optuna":
            raise PackageNotFoundError(name)
        return version(name)

    monkeypatch.setattr("importlib.metadata.version", without_optuna)
    assert main(["doctor", "--no-trials"]) == 0
    line = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("extra tune"))
    assert line.split()[2] == "no" and line.endswith('ltr tune: pip install "ltrkit[tune]"')


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "x"])
def test_doctor_timeout_is_a_positive_finite_number_of_seconds(value, capsys):
    """inf ended in a traceback (OverflowError), nan in a message naming neither option nor value, and 0 or -1 in a
    report that the trial, never run, had not answered in time (a trial)."""
    assert main(["doctor", "--timeout", value, "--no-trials"]) == 2
    err = capsys.readouterr().err
    assert f"argument --timeout: {value!r}" in err and "Traceback" not in err


@pytest.mark.parametrize(("engine", "key", "value"), [
    ("xgboost", "device", "cuda"), ("xgboost", "device", "cuda:0"), ("xgboost", "tree_method", "gpu_hist"),
    ("lightgbm", "device_type", "gpu"), ("lightgbm", "device", "cuda")])
def test_an_engine_parameter_that_moves_training_to_a_gpu_is_refused_for_device(engine, key, value, tmp_path,
                                                                                 capsys):
    """XGBoost given device=cuda on a machine without one trained on the CPU with no word on the command line (its
    own warning swallowed; a trial): the device is the ranker's, whose check says what the machine lacks."""
    from ltr.io import write_letor

    with pytest.raises(ValueError, match=rf"engine_params: {key}='{value}': the device is the ranker's own"):
        Ranker(engine=engine, engine_params={key: value}).fit(make_ranking(5, 5, 3, random_state=0))
    path = write_letor(tmp_path / "d.txt", make_ranking(5, 5, 3, random_state=0))
    assert main(["train", str(path), "--engine", engine, "--param", f"{key}={value}", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--param {key}={value}: the device is chosen by --device gpu" in err and "Traceback" not in err
    cpu = {"xgboost": ("device", "cpu"), "lightgbm": ("device_type", "cpu")}[engine]
    Ranker(engine=engine, n_estimators=2, min_child_samples=1,
           engine_params={cpu[0]: cpu[1]}).fit(make_ranking(5, 5, 3, random_state=0))  # the CPU named: as before


def test_gpu_or_cpu_falls_back_when_the_engine_cannot_train_on_the_platform_named(caplog, tmp_path, capsys):
    """With gpu_platform_id named, no probe runs and LightGBM is told the GPU: gpu-or-cpu failed instead of falling
    back to the CPU, and the error was worded for Python on the command line and named XGBoost (a trial). Platform
    97 exists on no machine."""
    from ltr.io import write_letor

    d = make_ranking(20, 8, 4, random_state=0)
    params = dict(n_estimators=3, min_child_samples=2, preset=None, random_state=0)
    g._warn_once.cache_clear()
    with caplog.at_level(logging.WARNING, logger="ltr.gpu"):
        either = Ranker(device="gpu-or-cpu", engine_params={"gpu_platform_id": 97}, **params).fit(d)
    assert either.device_ == "cpu"
    assert any("lightgbm could not train on the GPU" in r.getMessage() and "training on the CPU" in r.getMessage()
               for r in caplog.records)
    np.testing.assert_array_equal(either.predict(d), Ranker(**params).fit(d).predict(d))
    with pytest.raises(g.GPUNotAvailableError, match=r"^lightgbm could not train on the GPU .*engine_params="
                                                    r"\{'gpu_platform_id': P, 'gpu_device_id': D\} choose one\)"):
        Ranker(device="gpu", engine_params={"gpu_platform_id": 97}, **params).fit(d)
    path = write_letor(tmp_path / "d.txt", d)
    assert main(["train", str(path), "--device", "gpu", "--param", "gpu_platform_id=97", "--rounds", "3"]) == 1
    err = capsys.readouterr().err
    assert "--param gpu_platform_id=P --param gpu_device_id=D choose one), or use --device gpu-or-cpu or cpu" in err
    assert "XGBoost" not in err and "engine_params" not in err


def test_the_cuda_kernels_without_a_device_say_so_in_one_line():
    """numba-cuda's own error is its driver's, several lines naming neither ltr doctor nor the simulator (a trial);
    run in a child process: the simulator, once on in a process, stays on."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    code = ("from ltr.kernels import cuda as kc\nfrom ltr.gpu import GPUNotAvailableError\n"
            "from numba import cuda\nimport sys\n"
            "if cuda.is_available(): sys.exit(3)\n"
            "try:\n    kc.grad_hess('ranknet', [0.0, 1.0], [1, 0], [0, 2])\n"
            "except GPUNotAvailableError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    if out.returncode == 3:
        pytest.skip("this machine has a CUDA device")
    assert out.returncode == 0, out.stderr
    said = out.stdout.strip()
    assert said.startswith("no CUDA device here for ltr.kernels.cuda") and "NUMBA_ENABLE_CUDASIM=1" in said
    assert "\n" not in said
