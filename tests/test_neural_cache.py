"""``features.embedding_cache``: vectors keyed by their text, reused while the model's files, the options and the
text are the same; every kind of damage to the files found and recomputed with a warning, never reused; plain
``.npy`` files that load without pickle. No model is needed (the vectors come from a stand-in ``compute``)."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import zlib

import numpy as np
import pytest

from features.embedding_cache import CacheStats, VectorCache, default_cache_dir, item_key, model_digest

TEXTS = ["wing flutter", "heat transfer", "", "wing flutter"]


def vectors(texts: list[str]) -> np.ndarray:
    """A stand-in encoder: (length, number of 'w', 1.5)."""
    return np.array([[len(t), t.count("w"), 1.5] for t in texts], dtype=np.float32)


class Encoder:
    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]):
        self.calls.append(list(texts))
        return vectors(texts)


def get(cache: VectorCache, texts: list[str], enc: Encoder) -> np.ndarray:
    return cache.get([item_key(t) for t in texts], lambda at: enc([texts[i] for i in at]))


def cache(root, digest: str = "d1", **options) -> VectorCache:
    return VectorCache(root, kind="biencoder", model_path="/models/m", digest=digest, options=options)


def arrays(slot) -> tuple:
    """The paths of a cache folder's keys and values files, as its header names them."""
    files = json.loads((slot / "header.json").read_text())["files"]
    return slot / files["keys"], slot / files["values"]


def test_vectors_are_computed_once_per_text_and_read_back_from_disk(tmp_path):
    enc = Encoder()
    got = get(cache(tmp_path), TEXTS, enc)
    np.testing.assert_array_equal(got, vectors(TEXTS))
    assert enc.calls == [["wing flutter", "heat transfer", ""]]  # a repeated text is computed once
    enc2 = Encoder()
    again = cache(tmp_path)
    np.testing.assert_array_equal(get(again, TEXTS[::-1], enc2), vectors(TEXTS[::-1]))
    assert enc2.calls == [] and (again.stats.found, again.stats.computed) == (3, 0)
    # plain arrays: they load without pickle, and the header describes them
    slot = next(tmp_path.glob("biencoder-*"))
    keys = np.load(arrays(slot)[0], allow_pickle=False)
    values = np.load(arrays(slot)[1], allow_pickle=False)
    header = json.loads((slot / "header.json").read_text())
    assert keys.dtype == np.uint64 and keys.shape == (3, 2) and values.shape == (3, 3)
    assert (header["n"], header["dim"], header["model"]) == (3, 3, {"path": "/models/m", "digest": "d1"})


def test_a_new_or_changed_text_is_computed_and_the_rest_reused(tmp_path, caplog):
    get(cache(tmp_path), TEXTS, Encoder())
    enc = Encoder()
    c = cache(tmp_path)
    with caplog.at_level(logging.INFO, logger="features.embedding_cache"):
        got = get(c, ["wing flutter", "heat transfer in slabs"], enc)
    np.testing.assert_array_equal(got, vectors(["wing flutter", "heat transfer in slabs"]))
    assert enc.calls == [["heat transfer in slabs"]] and (c.stats.found, c.stats.computed) == (1, 1)
    assert "1 item(s) found, 1 computed (new or changed texts)" in caplog.text


def test_another_version_of_the_model_discards_the_cache_and_says_so(tmp_path, caplog):
    get(cache(tmp_path, "d1"), TEXTS, Encoder())
    enc = Encoder()
    c = cache(tmp_path, "d2")
    with caplog.at_level(logging.WARNING):
        get(c, TEXTS, enc)
    assert enc.calls == [["wing flutter", "heat transfer", ""]] and c.stats.found == 0
    assert "written by another version of the model at /models/m (digest d1, now d2): discarded and recomputed" \
        in caplog.text and c.stats.discarded
    enc = Encoder()
    get(cache(tmp_path, "d2"), TEXTS, enc)  # the new version's cache replaced it
    assert enc.calls == []


def test_other_options_and_other_models_use_their_own_folder(tmp_path):
    a, b = cache(tmp_path, max_length=128), cache(tmp_path, max_length=256)
    other = VectorCache(tmp_path, kind="biencoder", model_path="/models/other", digest="d1", options={})
    assert len({a.path, b.path, other.path, cache(tmp_path).path}) == 4
    assert cache(tmp_path, max_length=128).path == a.path


@pytest.mark.parametrize("damage", ["header-json", "header-list", "header-count", "header-crc", "header-model",
                                    "header-model-list", "no-keys",
                                    "values-garbage", "values-truncated", "keys-truncated", "values-pickled",
                                    "values-edited", "values-dtype", "keys-repeated", "values-nan"])
def test_damaged_files_are_recomputed_with_a_warning_never_reused(tmp_path, caplog, damage):
    get(cache(tmp_path), TEXTS, Encoder())
    slot = next(tmp_path.glob("biencoder-*"))
    (keys, values), head = arrays(slot), slot / "header.json"
    h = json.loads(head.read_text())
    if damage == "header-json":
        head.write_text('{"format": 1, ')
    elif damage == "header-list":
        head.write_text("[1, 2]")
    elif damage == "header-count":
        h["n"] += 1
        head.write_text(json.dumps(h))
    elif damage == "header-crc":
        del h["crc32"]
        head.write_text(json.dumps(h))
    elif damage in ("header-model", "header-model-list"):  # valid JSON: it raised AttributeError on every run
        h["model"] = "damaged" if damage == "header-model" else ["x"]
        head.write_text(json.dumps(h))
    elif damage == "no-keys":
        keys.unlink()
    elif damage == "values-garbage":
        values.write_bytes(b"\x93NUMPY garbage")
    elif damage == "values-truncated":
        values.write_bytes(values.read_bytes()[:-5])
    elif damage == "keys-truncated":
        keys.write_bytes(keys.read_bytes()[:90])
    elif damage == "values-pickled":
        np.save(values, np.array([object()] * 3, dtype=object), allow_pickle=True)
    elif damage == "values-edited":
        a = np.load(values)
        a[1, 1] = 7.0
        np.save(values, a)
    elif damage == "values-dtype":
        np.save(values, np.load(values).astype(np.float64))
    elif damage == "values-nan":  # the CRC made to match: a cosine of NaN was read as 0 (trial t59)
        a = np.load(values)
        a[1, 1] = np.nan
        np.save(values, a)
        h["crc32"]["values"] = zlib.crc32(a.view(np.uint8).reshape(-1)) & 0xFFFFFFFF
        head.write_text(json.dumps(h))
    else:  # two rows with one key, the CRC made to match
        k = np.load(keys)
        k[1] = k[0]
        np.save(keys, k)
        h["crc32"]["keys"] = zlib.crc32(k.view(np.uint8).reshape(-1)) & 0xFFFFFFFF
        head.write_text(json.dumps(h))
    enc = Encoder()
    c = cache(tmp_path)
    with caplog.at_level(logging.WARNING):
        got = get(c, TEXTS, enc)
    np.testing.assert_array_equal(got, vectors(TEXTS))
    assert enc.calls == [["wing flutter", "heat transfer", ""]] and c.stats.found == 0
    assert "corrupt cache" in caplog.text and "discarded and recomputed" in caplog.text and c.stats.discarded
    enc = Encoder()
    get(cache(tmp_path), TEXTS, enc)  # rewritten whole, and reused again
    assert enc.calls == []


def test_a_cache_that_cannot_be_written_is_a_warning_and_the_vectors_still_right(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # the cache folder would have to be inside a file
    with caplog.at_level(logging.WARNING):
        got = get(cache(blocker / "cache"), TEXTS, Encoder())
    np.testing.assert_array_equal(got, vectors(TEXTS))
    assert "could not write the biencoder cache" in caplog.text


def test_memory_only_and_bad_computed_vectors(tmp_path):
    c = VectorCache(None, kind="biencoder", model_path="/m", digest="", options={})
    enc = Encoder()
    get(c, TEXTS, enc)
    get(c, TEXTS, enc)
    assert len(enc.calls) == 1 and c.path is None and not list(tmp_path.iterdir())
    with pytest.raises(FloatingPointError, match="non-finite"):
        c.get([item_key("new")], lambda at: np.array([[np.nan, 0, 0]]))
    with pytest.raises(ValueError, match="computed"):
        c.get([item_key("new")], lambda at: np.zeros((1, 5)))


def test_model_digest_follows_content_and_remembers_unchanged_files(tmp_path):
    m = tmp_path / "model"
    (m / "1_Pooling").mkdir(parents=True)
    (m / "config.json").write_text('{"a": 1}')
    (m / "1_Pooling" / "config.json").write_text("{}")
    (m / ".gitattributes").write_text("x")
    d0 = model_digest(m)
    assert d0 == model_digest(m, cache_dir=tmp_path / "c") and (tmp_path / "c" / "file-digests.json").is_file()
    (m / ".gitattributes").write_text("y")  # dot-files are not the model
    assert model_digest(m) == d0
    (m / "1_Pooling" / "config.json").write_text("{ }")
    assert model_digest(m, cache_dir=tmp_path / "c") != d0
    # the remembered digest is used while the file's stamp is unchanged (here a planted one proves it is read)
    memo = json.loads((tmp_path / "c" / "file-digests.json").read_text())
    key = str((m / "config.json").resolve())
    memo[key][-1] = "0" * 64
    (tmp_path / "c" / "file-digests.json").write_text(json.dumps(memo))
    assert model_digest(m, cache_dir=tmp_path / "c") != model_digest(m)
    os.utime(m / "config.json", ns=(1, 1))  # touched: hashed again
    assert model_digest(m, cache_dir=tmp_path / "c") == model_digest(m)


def test_a_weights_file_rewritten_in_place_with_its_size_and_mtime_kept_is_hashed_again(tmp_path):
    # the memo was keyed by size and mtime: weights rewritten in place and `touch -r`'d back kept the old digest, and
    # a ranker trained with the old model was served with the new one (the trial's scores moved by up to 2.29)
    m = tmp_path / "model"
    m.mkdir()
    weights = m / "model.safetensors"
    weights.write_bytes(b"\x00" * 64)
    before = model_digest(m, cache_dir=tmp_path / "c")
    stat = weights.stat()
    with open(weights, "r+b") as f:  # same size, other bytes, in place (same inode)
        f.write(b"\x01" * 64)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (weights.stat().st_size, weights.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    assert model_digest(m, cache_dir=tmp_path / "c") == model_digest(m) != before


def test_keys_and_the_default_folder(monkeypatch, tmp_path):
    assert item_key("ab", "c") != item_key("a", "bc") and item_key("q", "d") == item_key("q", "d")
    assert item_key("q") != item_key("q", "")
    monkeypatch.setenv("LTRKIT_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("LTRKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "ltrkit"


def _writer(root, who: int, rounds: int, start, out) -> None:
    """One of several processes sharing a cache folder: each round a new cache (as a new run) adds 4 texts of its
    own and one that every process adds."""
    start.wait()
    discarded = []
    for r in range(rounds):
        c = cache(root)
        texts = [f"writer {who} round {r} text {i}" + "w" * i for i in range(4)] + [f"shared {r}"]
        if not np.array_equal(get(c, texts, Encoder()), vectors(texts)):
            discarded.append("wrong vectors")
        if c.stats.discarded:
            discarded.append(c.stats.discarded)
    out.put((who, discarded))


def test_concurrent_writers_keep_each_others_vectors_and_never_see_a_corrupt_cache(tmp_path):
    ctx = multiprocessing.get_context("fork")
    n, rounds = 3, 25
    start, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(tmp_path, who, rounds, start, out)) for who in range(n)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert results == {who: [] for who in range(n)}  # no process discarded the cache or read a wrong vector
    everything = [f"writer {who} round {r} text {i}" + "w" * i for who in range(n) for r in range(rounds)
                  for i in range(4)] + [f"shared {r}" for r in range(rounds)]
    enc, c = Encoder(), cache(tmp_path)
    np.testing.assert_array_equal(get(c, everything, enc), vectors(everything))
    assert enc.calls == [] and c.stats.found == len(everything)  # every writer's vectors are there


def test_a_header_replaced_while_read_is_read_again_not_called_corrupt(tmp_path, caplog, monkeypatch):
    get(cache(tmp_path), TEXTS, Encoder())
    slot = next(tmp_path.glob("biencoder-*"))
    original = VectorCache._read_once
    calls = []

    def racing(self, head_path):  # an unlocked writer renames a new header in during the first read
        calls.append(1)
        found = original(self, head_path)
        if len(calls) == 1:
            head = slot / "header.json"
            h = json.loads(head.read_text())
            h["n"] += 1
            os.replace(head, slot / "old")
            head.write_text(json.dumps(h))
            return "corrupt cache: fake"
        return found

    monkeypatch.setattr(VectorCache, "_read_once", racing)
    c = cache(tmp_path)
    with caplog.at_level(logging.WARNING):
        get(c, TEXTS, Encoder())
    # read again, and what the second read found is reported: the new header does describe other arrays
    assert len(calls) >= 2 and "fake" not in caplog.text and "the header says uint64 (4, 2)" in caplog.text
    caplog.clear()
    calls.clear()

    def always_racing(self, head_path):
        calls.append(1)
        os.utime(head_path, ns=(len(calls), len(calls)))
        return "keys.npy holds uint64 (200, 2), the header says uint64 (150, 2)"

    monkeypatch.setattr(VectorCache, "_read_once", always_racing)
    c = cache(tmp_path)
    with caplog.at_level(logging.WARNING):
        get(c, TEXTS, Encoder())
    assert "modified concurrently by another process while it was read" in caplog.text
    assert "corrupt" not in caplog.text.split("last:")[0]


def test_cache_stats_add_up_over_calls(tmp_path):
    c = cache(tmp_path)
    enc = Encoder()
    total = CacheStats()
    for texts in (TEXTS, ["wing flutter", "slab"]):
        get(c, texts, enc)
        total = total + c.stats
    assert total == CacheStats(found=1, computed=4)  # 'wing flutter' found on the second call; 3 + 1 new texts


def test_an_interrupted_long_computation_keeps_the_vectors_it_had_written(tmp_path, monkeypatch):
    """Vectors are computed a chunk at a time and written between chunks every SAVE_EVERY seconds: Ctrl-C after two
    chunks keeps them, and the run again computes only the rest (an interrupted embedding run started over)."""
    import features.embedding_cache as ec

    monkeypatch.setattr(ec, "COMPUTE_CHUNK", 1)
    monkeypatch.setattr(ec, "SAVE_EVERY", 0.0)
    texts = ["wing flutter", "heat transfer", "slabs", "supersonic"]

    class Stopped(Encoder):
        def __call__(self, chunk):
            if len(self.calls) == 2:
                raise KeyboardInterrupt
            return super().__call__(chunk)

    stopped = Stopped()
    with pytest.raises(KeyboardInterrupt):
        get(cache(tmp_path), texts, stopped)
    assert stopped.calls == [["wing flutter"], ["heat transfer"]]
    enc = Encoder()
    c = cache(tmp_path)
    np.testing.assert_array_equal(get(c, texts, enc), vectors(texts))
    assert enc.calls == [["slabs"], ["supersonic"]] and (c.stats.found, c.stats.computed) == (2, 2)
    monkeypatch.setattr(ec, "COMPUTE_CHUNK", 8192)  # one call for a small collection, as before chunks
    enc = Encoder()
    get(cache(tmp_path / "other"), texts, enc)
    assert enc.calls == [texts]


def test_model_digest_reads_a_linked_sub_folder(tmp_path):
    """Path.rglob does not descend into a link to a folder (before Python 3.13): a model whose 1_Pooling/ was a link
    kept its digest when its pooling changed, so the cache was reused, features off by up to 21.8 (trial t49)."""
    m, pooling = tmp_path / "model", tmp_path / "pooling"
    m.mkdir()
    pooling.mkdir()
    (m / "config.json").write_text("{}")
    (pooling / "config.json").write_text('{"pooling_mode": "mean"}')
    os.symlink(pooling, m / "1_Pooling")
    os.symlink(m, pooling / "loop")  # a link back up the tree: no endless walk
    before = model_digest(m)
    (pooling / "config.json").write_text('{"pooling_mode": "cls"}')
    assert model_digest(m) != before
    plain = tmp_path / "plain"  # the same files in real folders: the same digest
    plain.mkdir()
    (plain / "config.json").write_text("{}")
    (plain / "1_Pooling").mkdir()
    (plain / "1_Pooling" / "config.json").write_text('{"pooling_mode": "cls"}')
    assert model_digest(plain) == model_digest(m)  # the loop back to m adds nothing: each real folder read once


def test_the_offline_switch_is_given_back_after_a_model_is_loaded(monkeypatch):
    """huggingface_hub reads HF_HUB_OFFLINE into a constant when first imported: imported while ltrkit loaded a
    model, the whole process stayed offline, and a user's own download later failed with "check your connection"
    without trying (trial t49)."""
    import sys
    import types

    from features.scorers.neural._common import offline

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    hub = types.ModuleType("huggingface_hub.constants")
    hub.HF_HUB_OFFLINE = False
    monkeypatch.setitem(sys.modules, "huggingface_hub.constants", hub)
    with offline():
        assert hub.HF_HUB_OFFLINE is True and os.environ["HF_HUB_OFFLINE"] == "1"
        late = types.ModuleType("transformers.utils.hub")  # first imported here: it read the switch as on
        late._is_offline_mode = True
        monkeypatch.setitem(sys.modules, "transformers.utils.hub", late)
    assert hub.HF_HUB_OFFLINE is False and late._is_offline_mode is False and "HF_HUB_OFFLINE" not in os.environ
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")  # the user's own choice is kept
    hub.HF_HUB_OFFLINE = True
    del sys.modules["transformers.utils.hub"]
    with offline():
        late = types.ModuleType("transformers.utils.hub")
        late._is_offline_mode = True
        monkeypatch.setitem(sys.modules, "transformers.utils.hub", late)
    assert hub.HF_HUB_OFFLINE is True and late._is_offline_mode is True


def test_two_threads_loading_models_at_once_leave_the_switch_as_they_found_it(monkeypatch):
    """Overlapping offline() blocks (two first requests to a served Reranker): the second saved the first's switch
    (on) as its own and restored it for good, the process left offline again (the review of t49)."""
    import sys
    import threading
    import time
    import types

    from features.scorers.neural._common import offline

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    hub = types.ModuleType("huggingface_hub.constants")
    hub.HF_HUB_OFFLINE = False
    monkeypatch.setitem(sys.modules, "huggingface_hub.constants", hub)
    inside, a_in, b_in = [], threading.Event(), threading.Event()

    def a():
        with offline():
            a_in.set()
            b_in.wait(0.5)  # A loading when B starts (B waits for A's block to end: A goes on after a while)
            inside.append(hub.HF_HUB_OFFLINE)

    def b():
        a_in.wait()
        with offline():
            b_in.set()
            time.sleep(0.2)  # B still loading when A ends
            inside.append(hub.HF_HUB_OFFLINE)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert inside == [True, True] and hub.HF_HUB_OFFLINE is False and "HF_HUB_OFFLINE" not in os.environ


def test_a_key_merged_from_another_writer_between_chunks_is_not_written_twice(tmp_path, monkeypatch):
    """Writer A saves between its chunks; writer B stores texts of A's later chunks meanwhile. A's save merged them
    and A's later chunk added them again: the folder held those keys twice, and the next run discarded every vector
    as corrupt (trial t52)."""
    import features.embedding_cache as ec

    monkeypatch.setattr(ec, "COMPUTE_CHUNK", 2)
    monkeypatch.setattr(ec, "SAVE_EVERY", 0.0)
    texts = [f"text {i}" + "w" * i for i in range(6)]
    a, b = cache(tmp_path), cache(tmp_path)
    calls = []

    def compute_a(at):
        calls.append(list(at))
        if len(calls) == 1:  # meanwhile, process B stores A's later texts
            get(b, texts[2:], Encoder())
        return vectors([texts[i] for i in at])

    got = a.get([item_key(t) for t in texts], compute_a)
    np.testing.assert_array_equal(got, vectors(texts))
    slot = next(tmp_path.glob("biencoder-*"))
    assert json.loads((slot / "header.json").read_text())["n"] == 6
    enc, c = Encoder(), cache(tmp_path)
    np.testing.assert_array_equal(get(c, texts, enc), vectors(texts))
    assert enc.calls == [] and c.stats == CacheStats(found=6, computed=0)


def test_a_folder_an_earlier_version_wrote_with_a_key_twice_keeps_the_first_copy(tmp_path, caplog):
    """Both copies are vectors of one text (up to batch padding's last bits): the folder is read, not discarded,
    and written again without the repeat; copies that differ are damage (test above: keys-repeated)."""
    get(cache(tmp_path), TEXTS, Encoder())
    slot = next(tmp_path.glob("biencoder-*"))
    h = json.loads((slot / "header.json").read_text())
    keys, values = (np.load(slot / h.get("files", {}).get(a, f"{a}.npy")) for a in ("keys", "values"))
    keys, values = np.concatenate([keys, keys[1:2]]), np.concatenate([values, values[1:2] * (1 + 1e-7)])
    for a, arr in (("keys", keys), ("values", values)):
        np.save(slot / h.get("files", {}).get(a, f"{a}.npy"), arr)
        h["crc32"][a] = zlib.crc32(arr.view(np.uint8).reshape(-1)) & 0xFFFFFFFF
    h["n"] = 4
    (slot / "header.json").write_text(json.dumps(h))
    enc, c = Encoder(), cache(tmp_path)
    with caplog.at_level(logging.INFO, logger="features.embedding_cache"):
        np.testing.assert_array_equal(get(c, TEXTS + ["slab"], enc), vectors(TEXTS + ["slab"]))
    assert enc.calls == [["slab"]] and c.stats == CacheStats(found=3, computed=1)
    assert "1 repeated key(s) with equal vectors: the first copy of each is kept" in caplog.text
    assert json.loads((slot / "header.json").read_text())["n"] == 4  # rewritten without the repeat


def test_a_write_that_fails_or_is_interrupted_leaves_the_previous_cache_whole(tmp_path, monkeypatch):
    """The arrays are written under new names and the header naming them last: a full disk or Ctrl-C while the
    values file is written left new keys beside the old header, and the next run discarded every vector (trial
    t52). Now the folder reads as before the write, and holds no file of it."""
    import features.embedding_cache as ec

    old = [f"old {i}" for i in range(5)]
    get(cache(tmp_path), old, Encoder())
    slot = next(tmp_path.glob("biencoder-*"))
    before = sorted(p.name for p in slot.iterdir())
    real = ec.atomic_write

    @contextlib.contextmanager
    def failing(path, *args, **kwargs):
        with real(path, *args, **kwargs) as f:
            yield f
            if str(path).endswith(".npy") and "values" in os.path.basename(path):
                raise failure  # while the values file is written, after the keys file was
    monkeypatch.setattr(ec, "atomic_write", failing)
    for failure in (OSError(27, "File too large"), KeyboardInterrupt()):
        if isinstance(failure, KeyboardInterrupt):
            with pytest.raises(KeyboardInterrupt):
                get(cache(tmp_path), old + ["new"], Encoder())
        else:
            get(cache(tmp_path), old + ["new"], Encoder())  # a warning: the features are unaffected
        assert sorted(p.name for p in slot.iterdir()) == before
        enc, c = Encoder(), cache(tmp_path)
        np.testing.assert_array_equal(get(c, old, enc), vectors(old))
        assert enc.calls == [] and c.stats == CacheStats(found=5, computed=0)


def test_a_format_1_cache_is_read_and_replaced_by_format_2_at_the_next_write(tmp_path):
    get(cache(tmp_path), TEXTS, Encoder())
    slot = next(tmp_path.glob("biencoder-*"))
    keys, values = arrays(slot)
    h = json.loads((slot / "header.json").read_text())
    keys.rename(slot / "keys.npy")
    values.rename(slot / "values.npy")
    h["format"] = 1
    del h["files"]
    (slot / "header.json").write_text(json.dumps(h))
    enc, c = Encoder(), cache(tmp_path)
    np.testing.assert_array_equal(get(c, TEXTS + ["slab"], enc), vectors(TEXTS + ["slab"]))
    assert enc.calls == [["slab"]] and c.stats.found == 3
    h = json.loads((slot / "header.json").read_text())
    assert h["format"] == 2 and sorted(p.name for p in slot.glob("*.npy")) == sorted(h["files"].values())


def test_a_header_naming_an_array_outside_the_folder_is_corrupt(tmp_path, caplog):
    get(cache(tmp_path), TEXTS, Encoder())
    slot = next(tmp_path.glob("biencoder-*"))
    h = json.loads((slot / "header.json").read_text())
    h["files"]["values"] = "../../values-0123456789abcdef.npy"
    (slot / "header.json").write_text(json.dumps(h))
    with caplog.at_level(logging.WARNING):
        get(cache(tmp_path), TEXTS, Encoder())
    assert "corrupt cache" in caplog.text and "as the values file" in caplog.text


def test_a_serving_cache_reads_the_folder_once_and_never_writes_it(tmp_path, monkeypatch):
    """Serving wrote each query's new pairs: every call read, merged and rewrote the whole folder, 82 ms -> 4.8 s
    per query with a million cached pairs (trial t52). Now no call after the first reads the folder, none writes
    it, and what a call computes is held in memory."""
    get(cache(tmp_path), TEXTS, Encoder())
    slot = next(tmp_path.glob("biencoder-*"))
    files = {p.name: p.stat().st_mtime_ns for p in slot.iterdir()}
    served = VectorCache(tmp_path, kind="biencoder", model_path="/models/m", digest="d1", options={},
                         memory_items=100)
    enc = Encoder()
    np.testing.assert_array_equal(get(served, ["heat transfer", "slab"], enc), vectors(["heat transfer", "slab"]))
    assert enc.calls == [["slab"]] and served.stats == CacheStats(found=1, computed=1)
    reads, saves = [], []
    monkeypatch.setattr(VectorCache, "_read", lambda self: reads.append(1))
    monkeypatch.setattr(VectorCache, "_save", lambda self: saves.append(1))
    for i in range(5):
        texts = [f"query {i} text", "slab", "wing flutter"]
        np.testing.assert_array_equal(get(served, texts, enc), vectors(texts))
    assert reads == saves == [] and enc.calls[1:] == [[f"query {i} text"] for i in range(5)]
    assert {p.name: p.stat().st_mtime_ns for p in slot.iterdir()} == files  # the folder as ltr features left it


def test_a_serving_cache_holds_the_most_recently_used_vectors_up_to_its_bound(tmp_path):
    """With cache = false, serving kept every pair it ever computed, and copied them all at each call (trial t52)."""
    for root in (None, tmp_path):
        c = VectorCache(root, kind="crossencoder", model_path="/m", digest="", options={}, memory_items=3)
        enc = Encoder()
        for texts in (["a", "b"], ["c"], ["a"], ["d"]):  # "a" used again: "b" is the least recently used
            np.testing.assert_array_equal(get(c, texts, enc), vectors(texts))
        assert len(c._recent) == 3
        enc = Encoder()
        np.testing.assert_array_equal(get(c, ["a", "d", "c", "b"], enc), vectors(["a", "d", "c", "b"]))
        assert enc.calls == [["b"]] and len(c._recent) == 3 and not list(tmp_path.iterdir())
        many = [f"t{i}" for i in range(10)]  # one call beyond the bound still gets every vector
        np.testing.assert_array_equal(get(c, many, Encoder()), vectors(many))
        assert len(c._recent) == 3
        assert get(c, [], Encoder()).shape == (0, 3)
