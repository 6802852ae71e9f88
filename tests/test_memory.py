"""Bounded memory (issue #12): reading allocates the result once, training hands float32 to the engines without a
copy, LightGBM's binary Dataset is reused when the data and binning have not changed, bagging by query.

The MSLR-WEB30K-sized measurement is ``benchmarks/bench_memory.py`` (not a test); here a 40k-row file is read in
a child process with a 1 MiB window, and its peak resident memory must stay near the arrays it returns.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import lightgbm as lgb
import numpy as np
import pytest

from ltr import Ranker, make_ranking
from ltr.io import write_letor
from ltr.rankers import _backends


@pytest.mark.slow
def test_reading_peaks_near_the_result_not_the_result_plus_the_file(tmp_path):
    d = make_ranking(400, 100, 136, random_state=0)  # 40,000 rows x 136: 21 MiB of float32, ~70 MiB of text
    path = write_letor(tmp_path / "big.txt", d)
    warm = write_letor(tmp_path / "warm.txt", make_ranking(2, 3, 136, random_state=1))
    code = textwrap.dedent(f"""
        import json
        from ltr.io import letor
        def hwm():
            return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
        letor.read_letor({str(warm)!r}, n_features=136)  # imports and compiled kernels before the baseline
        letor._WINDOW_BYTES = 1 << 20
        base = hwm()
        got = letor.read_letor({str(path)!r}, n_features=136)
        arrays = got.X.nbytes + got.y.nbytes + got.qid.nbytes + got.group_ptr.nbytes
        print(json.dumps({{"base": base, "peak": hwm(), "arrays": arrays, "file": {path.stat().st_size}}}))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads(r.stdout.strip().splitlines()[-1])
    assert m["file"] > 2.5 * m["arrays"]
    # the result plus one 1 MiB window; the previous reader held the whole file's bytes beside the arrays (~4.3x)
    assert m["peak"] - m["base"] < 1.3 * m["arrays"] + (2 << 20), m


def test_training_hands_the_float32_matrix_to_lightgbm_without_a_copy(monkeypatch):
    d = make_ranking(50, 10, 5, random_state=0)
    seen = []
    real = lgb.Dataset.__init__

    def spy(self, data, *a, **k):
        seen.append(data)
        real(self, data, *a, **k)

    monkeypatch.setattr(lgb.Dataset, "__init__", spy)
    Ranker(n_estimators=2, min_child_samples=2).fit(d)
    assert seen[0] is d.X and seen[0].dtype == np.float32  # the dataset's own read-only array


def test_xgboost_trains_from_a_quantile_dmatrix(monkeypatch):
    import xgboost as xgb

    d = make_ranking(50, 10, 5, random_state=0)
    made = []
    real = xgb.QuantileDMatrix.__init__

    def spy(self, data, *a, **k):
        made.append(data)
        real(self, data, *a, **k)

    monkeypatch.setattr(xgb.QuantileDMatrix, "__init__", spy)
    Ranker(engine="xgboost", n_estimators=2).fit(d, eval_set=[d])
    assert len(made) == 2 and made[0] is d.X  # training and validation sets, no float64 copy of X


def test_the_binary_dataset_cache_is_reused_only_for_the_same_data_and_binning(tmp_path, monkeypatch):
    d = make_ranking(60, 10, 5, random_state=0)
    cache = tmp_path / "cache"
    first = Ranker(n_estimators=5, min_child_samples=2, dataset_cache=str(cache)).fit(d)
    files = sorted(cache.glob("*.bin"))
    assert len(files) == 1
    loaded = []
    real = lgb.Dataset.__init__

    def spy(self, data, *a, **k):
        loaded.append(isinstance(data, str))
        real(self, data, *a, **k)

    monkeypatch.setattr(lgb.Dataset, "__init__", spy)
    again = Ranker(n_estimators=5, min_child_samples=2, dataset_cache=str(cache), learning_rate=0.05).fit(d)
    assert loaded == [True]  # the binary file, not the array
    np.testing.assert_array_equal(again.predict(d), first.predict(d))
    plain = Ranker(n_estimators=5, min_child_samples=2).fit(d)
    np.testing.assert_array_equal(plain.predict(d), first.predict(d))
    # other binning or other data: another file
    Ranker(n_estimators=5, min_child_samples=2, dataset_cache=str(cache), engine_params={"max_bin": 15}).fit(d)
    Ranker(n_estimators=5, min_child_samples=2, dataset_cache=str(cache)).fit(make_ranking(60, 10, 5,
                                                                                             random_state=1))
    assert len(sorted(cache.glob("*.bin"))) == 3 and not list(cache.glob(".*tmp*"))


# LightGBM's version decides, not ltrkit's own parameter check (the thing under test): bagging_by_query came with
# LightGBM 4.6.0 (microsoft/LightGBM#6623); 4.5.0 trains without it, 4.6.0 writes "[bagging_by_query: 1]" (tried).
_LIGHTGBM_VERSION = tuple(int(p) for p in lgb.__version__.split(".")[:2])


@pytest.mark.skipif(_LIGHTGBM_VERSION < (4, 6), reason="bagging_by_query came with LightGBM 4.6.0")
def test_bagging_by_query_reaches_lightgbm():
    d = make_ranking(80, 10, 5, random_state=0)
    kw = dict(n_estimators=5, min_child_samples=2, subsample=0.5, random_state=3, preset=None)  # no preset bagging
    by_query = Ranker(engine_params={"bagging_by_query": True}, **kw).fit(d)
    by_row = Ranker(**kw).fit(d)
    assert "[bagging_by_query: 1]" in by_query.booster_.model_to_string()
    assert not np.array_equal(by_query.predict(d), by_row.predict(d))


def test_backend_key_names_binning_parameters():
    assert {"max_bin", "min_data_in_bin", "bin_construct_sample_cnt"} <= set(_backends.LIGHTGBM_BINNING_PARAMS)
