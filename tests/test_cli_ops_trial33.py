"""The command line in scripts, pipelines and batch schedulers, from a user trial: writes cut short on standard
output, a reader that goes away, SIGHUP, outputs written as a set, read-only installs."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
import warnings

import pytest

from ltr.cli import main
from ltr.datasets import make_ranking
from ltr.io import write_letor

LTR = [sys.executable, "-m", "ltr.cli"]


@pytest.fixture(scope="module")
def model_and_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("ops")
    data = write_letor(root / "d.txt", make_ranking(300, 20, 8, random_state=0))  # 6,000 rows
    write_letor(root / "v.txt", make_ranking(50, 20, 8, random_state=1))
    assert main(["train", str(data), "--rounds", "5", "--preset", "none", "--out", str(root / "m.txt"),
                 "--quiet"]) == 0
    return root, str(root / "m.txt"), str(data)


def _limited(kib: int):
    def limit():  # the child's file-size limit (ulimit -f), which Python turns into EFBIG (it ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, kib * 1024))
    return limit


@pytest.mark.parametrize("command", [["predict", "{m}", "{d}", "--out", "-"],
                                     ["evaluate", "{d}", "--scores", "{s}", "-q", "--format", "trec"]])
def test_output_cut_short_on_standard_output_is_an_error_not_a_short_file_and_exit_0(model_and_data, command):
    """Python's io.BufferedWriter returns a short count for a write past a file-size limit or a full disk, without an
    error, and print() ignores it: ltr predict --out - > FILE exited 0 with 10,070 of 57,480 lines."""
    root, m, d = model_and_data
    scores = root / "s.txt"
    if not scores.exists():
        assert main(["predict", m, d, "--out", str(scores), "--quiet"]) == 0
    argv = [a.format(m=m, d=d, s=scores) for a in command]
    out = root / "out.txt"
    with open(out, "wb") as f:
        r = subprocess.run(LTR + argv, stdout=f, stderr=subprocess.PIPE, preexec_fn=_limited(20), timeout=300)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert err.strip().splitlines() == [f"ltr {argv[0]}: error: standard output: cannot write: file too large"]
    assert out.stat().st_size == 20 * 1024
    with open(out, "wb") as f:  # without the limit: whole, exit 0
        assert subprocess.run(LTR + argv, stdout=f, stderr=subprocess.DEVNULL, timeout=300).returncode == 0
    assert out.stat().st_size > 20 * 1024


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_help_and_version_written_to_a_full_device_are_an_error():
    for argv in (["--help"], ["--version"], ["train", "--help"]):
        with open("/dev/full", "wb") as full:
            r = subprocess.run(LTR + argv, stdout=full, stderr=subprocess.PIPE, timeout=120)
        assert r.returncode == 1, argv
        assert r.stderr.decode().strip().endswith("error: standard output: cannot write: no space left on device")


def test_a_reader_that_goes_away_ends_the_command_quietly_with_141_not_0(model_and_data, tmp_path):
    """`ltr cv DATA --run-out - --out cv.json | head -1` exited 0 without writing cv.json: a broken pipe is not a
    success; GNU tools die by SIGPIPE there (141 in the shell, which `set -o pipefail` sees)."""
    _, m, d = model_and_data
    p = subprocess.Popen(LTR + ["predict", m, d, "--out", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # the reader is gone before the first write
    err = p.stderr.read()
    assert p.wait(timeout=300) == 141
    assert err == b""


def _wait_for(path, seconds=120):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists() and path.stat().st_size:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} did not appear")


def test_sighup_stops_a_run_as_sigterm_does_and_is_ignored_under_nohup(model_and_data, tmp_path):
    """A closed terminal or ssh session sends SIGHUP: the run ended at once with exit 129, no message, and left its
    temporary files (48-118 MB per interrupted ltr features)."""
    root, _, d = model_and_data
    out = tmp_path / "m.txt"
    out.write_text("previous\n")
    argv = LTR + ["train", d, "--valid", str(root / "v.txt"), "--preset", "none", "--rounds", "20000",
                  "--early-stopping", "20000", "--out", str(out), "--log-every", "1"]
    for nohup in (False, True):
        log = tmp_path / f"log{nohup}.txt"
        with open(log, "wb") as f:
            hup = signal.SIG_IGN if nohup else signal.SIG_DFL  # (the test run may itself be under nohup)
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=f, start_new_session=True,
                                 preexec_fn=lambda hup=hup: signal.signal(signal.SIGHUP, hup))
            try:
                _wait_for(log)  # training: its first rounds are logged
                p.send_signal(signal.SIGHUP)
                if nohup:
                    time.sleep(1.0)
                    assert p.poll() is None  # ignored, as nohup asks
                    p.send_signal(signal.SIGTERM)
                code = p.wait(timeout=120)
            finally:
                if p.poll() is None:
                    p.kill()
        said = log.read_text().strip().splitlines()[-1]
        if nohup:
            assert code == 143 and said == "ltr train: terminated; no output file was left half-written"
        else:
            assert code == 129 and said == "ltr train: hung up (SIGHUP); no output file was left half-written"
        assert out.read_text() == "previous\n"
        assert sorted(x.name for x in tmp_path.iterdir()) == sorted(["m.txt", "logFalse.txt", *(
            ["logTrue.txt"] if nohup else [])])


def test_an_interrupted_ltr_features_leaves_every_output_of_the_run_before(tmp_path, monkeypatch, capsys):
    """--save-run was written as soon as the first stage ended: an interrupted run left the new run beside the old
    LETOR file (and said no output was left half-written)."""
    import features.extraction

    col = tmp_path / "col.tsv"
    col.write_text("".join(f"d{i}\tword{i % 7} common text {i}\n" for i in range(40)))
    queries = tmp_path / "q.tsv"
    queries.write_text("1\tword1 text\n2\tword3 common\n")
    qrels = tmp_path / "qrels"
    qrels.write_text("1 0 d1 1\n2 0 d3 1\n")
    outs = {"--out": tmp_path / "f.letor", "--save-run": tmp_path / "f.run", "--qrels-out": tmp_path / "f.qrels",
            "--topics-out": tmp_path / "f.topics"}
    base = ["features", "--collection", str(col), "--queries", str(queries), "--qrels", str(qrels), "--quiet"]
    assert main([*base, "--topk", "10", *(a for k, v in outs.items() for a in (k, str(v)))]) == 0
    before = {k: v.read_bytes() for k, v in outs.items()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(features.extraction, "extract", interrupted)
    capsys.readouterr()
    assert main([*base, "--topk", "5", *(a for k, v in outs.items() for a in (k, str(v)))]) == 130
    assert "interrupted; no output file was left half-written" in capsys.readouterr().err
    assert {k: v.read_bytes() for k, v in outs.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["col.tsv", "q.tsv", "qrels", *(
        p.name for p in outs.values())])


def test_a_write_error_inside_outputs_written_together_names_the_users_path_not_the_temporary_one(tmp_path):
    from ltr.io.outputs import outputs_together

    target = tmp_path / "old.run"
    target.write_text("old\n")
    with pytest.raises(OSError) as caught:
        with outputs_together(target) as (tmp,):
            assert tmp != str(target)
            raise OSError(errno.ENOSPC, "cannot write: no space left on device", tmp)
    assert caught.value.filename == str(target) and target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.run"]


def test_numba_thread_count_set_to_nothing_is_taken_as_unset(model_and_data):
    _, _, d = model_and_data
    r = subprocess.run(LTR + ["info", d], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "NUMBA_NUM_THREADS": ""})
    assert r.returncode == 0 and r.stderr == "", r.stderr  # Numba's RuntimeWarning and its traceback were printed


def test_numbas_cache_goes_to_a_temporary_folder_when_neither_of_its_own_places_can_be_written(monkeypatch, tmp_path):
    """A read-only install with a read-only home (a container run as another user): every command, ltr --help too,
    died with Numba's 'RuntimeError: cannot cache function ...: no locator available'."""
    import numba

    from ltr import _numba_home

    # registered first, so that the variable cache_home() sets is undone (delenv of an unset variable records
    # nothing: the tests after this one, and their subprocesses, ran with another Numba cache)
    monkeypatch.setenv("NUMBA_CACHE_DIR", "")
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert _numba_home.cache_home() is None  # this install is writable: Numba's own place
    monkeypatch.setattr(_numba_home.os, "access", lambda *a, **k: False)  # the package's folder is not
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    assert _numba_home.cache_home() is None  # the user's cache folder is writable: Numba's second place
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file" / "cache"))  # nor is that one
    monkeypatch.setattr(_numba_home.tempfile, "gettempdir", lambda: str(tmp_path))
    saved = numba.config.CACHE_DIR
    try:
        got = _numba_home.cache_home()
        assert got == str(tmp_path / f"ltrkit-numba-cache-{os.getuid()}")
        assert os.environ["NUMBA_CACHE_DIR"] == got == numba.config.CACHE_DIR
        assert (tmp_path / f"ltrkit-numba-cache-{os.getuid()}").stat().st_mode & 0o777 == 0o700
    finally:
        numba.config.CACHE_DIR = saved
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))  # the user's own choice is kept
    assert _numba_home.cache_home() is None and not (tmp_path / "elsewhere").exists()  # (Numba's to make)
    # ... unless it cannot be written either (a read-only volume, or one never mounted): Numba's traceback on every
    # command, ltr --help too (trial t53); the temporary folder, said
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "file" / "numba"))
    try:
        with pytest.warns(UserWarning, match=r"NUMBA_CACHE_DIR=.*/file/numba cannot be written, nor can the "
                                             r"install's __pycache__ or the user's cache folder: Numba's cache of "
                                             r"compiled code goes to "):
            got = _numba_home.cache_home()
        assert got == str(tmp_path / f"ltrkit-numba-cache-{os.getuid()}") == os.environ["NUMBA_CACHE_DIR"]
    finally:
        numba.config.CACHE_DIR = saved
    # ... but where the user's cache folder can be written, Numba goes on to it by itself: nothing to do, nor say
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "file" / "numba"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _numba_home.cache_home() is None


def test_the_checked_sink_writes_the_rest_after_a_short_write_and_raises_what_the_os_says(monkeypatch, tmp_path):
    from ltr import _checked_io

    calls = []

    def short_then_full(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return 3  # a short write, as the kernel gives at a file-size limit
        raise OSError(errno.ENOSPC, "No space left on device")

    fd = os.open(tmp_path / "x", os.O_WRONLY | os.O_CREAT)
    try:
        sink = _checked_io.CheckedSink(fd, label="standard output")
        monkeypatch.setattr(_checked_io.os, "write", short_then_full)
        sink.write(b"0123456789")
        with pytest.raises(OSError, match="cannot write: no space left on device") as caught:
            sink.flush()
        assert calls == [10, 7] and caught.value.filename == "standard output"
    finally:
        monkeypatch.undo()
        os.close(fd)


def test_an_option_value_that_starts_with_a_dash_is_named_with_the_way_to_give_it(capsys):
    assert main(["predict", "m.txt", "d.txt", "--out", "-s.txt"]) == 2
    assert "argument --out: expected one argument (a value that starts with '-' is given as --out=VALUE)" in \
        capsys.readouterr().err
    assert main(["predict", "m.txt", "d.txt", "--out"]) == 2  # no value at all: no such hint
    assert "starts with '-'" not in capsys.readouterr().err


# From the review of this stop's changes


def test_a_write_that_failed_leaves_nothing_to_be_flushed_later_into_a_file_that_reuses_its_descriptor(tmp_path):
    import gc

    from ltr.io.outputs import atomic_write

    def write_a():
        with atomic_write(tmp_path / "a.txt") as f:
            f.write("PENDING LINE FROM a.txt\n")
            raise ValueError("failed")

    with pytest.raises(ValueError):
        write_a()
    with open(tmp_path / "b.txt", "w") as g:  # very likely the number a.txt's descriptor had
        gc.collect()  # the failed write's text layer, flushed as it is collected
        g.write("b's own line\n")
    assert (tmp_path / "b.txt").read_text() == "b's own line\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]


def test_the_checked_sink_takes_writes_from_several_threads(tmp_path):
    import threading

    from ltr._checked_io import CheckedSink

    fd = os.open(tmp_path / "x", os.O_WRONLY | os.O_CREAT)
    sink = CheckedSink(fd, block=4096)
    line = b"0123456789" * 3 + b"\n"

    def write():
        for _ in range(20000):
            sink.write(line)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.flush()
    os.close(fd)
    assert (tmp_path / "x").read_bytes() == line * 80000  # BufferError and lost lines without its lock


def test_numbas_fallback_cache_folder_is_never_one_another_user_could_write(monkeypatch, tmp_path):
    from ltr import _numba_home

    taken = tmp_path / f"ltrkit-numba-cache-{os.getuid()}"
    taken.mkdir(mode=0o777)
    taken.chmod(0o777)  # made in advance, writable by everyone
    got = _numba_home._own_folder(tmp_path)
    assert got is not None and got != taken and got.parent == tmp_path
    assert got.stat().st_mode & 0o777 == 0o700
    taken.chmod(0o700)
    assert _numba_home._own_folder(tmp_path) == taken


def test_a_ubjson_value_nested_deeper_than_python_recurses_is_an_error_naming_it(tmp_path):
    from ltr.trees import ubjson

    with pytest.raises(ubjson.UBJSONError, match="more than 128 levels of nesting|nesting too deep"):
        ubjson.loads(b"{i\x01a" + b"[" * 600 + b"]" * 600 + b"}")


def test_sighup_with_standard_error_gone_still_exits_129(model_and_data, tmp_path, wait_until_catching):
    root, _, d = model_and_data
    with open("/dev/full", "wb") as dead:
        p = subprocess.Popen(LTR + ["train", d, "--valid", str(root / "v.txt"), "--preset", "none", "--rounds",
                                    "20000", "--early-stopping", "20000",
                                    "--out", str(tmp_path / "m.txt"), "--quiet"], stdout=subprocess.DEVNULL,
                             stderr=dead, preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
        wait_until_catching(p.pid, signal.SIGHUP, mapped="lib_lightgbm")
        time.sleep(1)  # training, as a closed terminal finds it
        p.send_signal(signal.SIGHUP)
        assert p.wait(timeout=120) == 129
    assert list(tmp_path.iterdir()) == []
