"""Torch's threads, which Numba's OpenMP layer sets when it starts (the same libgomp): ltrkit leaves them as they were
or as ``OMP_NUM_THREADS`` asks (trial t70: ``torch.set_num_threads(1)`` then ``Reranker.load``, and torch ran on 2;
``OMP_NUM_THREADS=1 ltr rerank`` encoded on 2). Each case runs in a new process: the layer starts once a process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ltr._shared import import_neural

pytestmark = pytest.mark.neural


def _run(code: str, **env) -> str:
    import_neural("torch")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "NUMBA_NUM_THREADS": "2", **env})
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_numba_threads_leave_torchs_threads_as_they_were():
    said = _run("import torch\n"  # one thread, as OMP_NUM_THREADS asks
                "from ltr.threads import numba_threads\n"
                "with numba_threads(2):\n    pass\n"
                "import numba\nprint(torch.get_num_threads(), numba.get_num_threads())", OMP_NUM_THREADS="1")
    assert said == ["1", "2"]  # was 2 2 under Numba's OpenMP layer


def test_torch_imported_by_the_neural_scorers_gets_the_threads_omp_num_threads_asks():
    said = _run("import numba\nnumba.get_num_threads()  # the layer starts first, as a reader's kernel starts it\n"
                "from features.scorers.neural._common import sentence_transformers\n"
                "sentence_transformers()\nimport torch\nprint(torch.get_num_threads())", OMP_NUM_THREADS="1")
    assert said == ["1"]
