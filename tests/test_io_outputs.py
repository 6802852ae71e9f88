"""Safe outputs (ltr.io.atomic_write, check_output_path) and score files (ltr.io.read_scores / write_scores).

The claims of the ltr.io.outputs docstring, one test each: umask and kept modes, symlinks written through, devices,
FIFOs and standard output written directly, fsync of the file then the folder, nothing left behind by a failure or
Ctrl-C, one-line errors that never name a temporary file.
"""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import ltr.io
from ltr.exceptions import OutputPathError, ScoreFormatError
from ltr.io import atomic_write, check_output_path, read_scores, write_scores
from ltr.io import outputs as outputs_module

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
POSIX = os.name == "posix"


@pytest.fixture
def umask():
    """Set the process umask for one test, restoring it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda m: os.umask(m)
    os.umask(old)


def leftovers(folder: Path, *keep: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n not in keep)


# ------------------------------------------------------------------------------------------------------------
# Permissions
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_0666_less_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    p = tmp_path / "model.txt"
    with atomic_write(p) as f:
        f.write("x\n")
    assert stat.S_IMODE(p.stat().st_mode) == expected


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o640, 0o755, 0o604])
def test_a_replaced_file_keeps_its_mode_whatever_the_umask(tmp_path, umask, mode):
    p = tmp_path / "run.txt"
    p.write_text("old\n")
    p.chmod(mode)
    umask(0o077)
    with atomic_write(p) as f:
        f.write("new\n")
    assert p.read_text() == "new\n"
    assert stat.S_IMODE(p.stat().st_mode) == mode


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another owner")
def test_as_root_a_replaced_file_keeps_its_owner_and_group(tmp_path):
    p = tmp_path / "shared.txt"
    p.write_text("old\n")
    os.chown(p, 12345, 23456)
    with atomic_write(p) as f:
        f.write("new\n")
    st = p.stat()
    assert (st.st_uid, st.st_gid) == (12345, 23456) and p.read_text() == "new\n"


# ------------------------------------------------------------------------------------------------------------
# Symlinks, devices, FIFOs, standard output
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not POSIX, reason="symlinks")
def test_a_symlink_is_written_through_and_stays_a_symlink(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    real = tmp_path / "b" / "real.txt"
    real.write_text("old\n")
    link = tmp_path / "a" / "link.txt"
    link.symlink_to(os.path.join("..", "b", "real.txt"))  # relative, into another folder
    chain = tmp_path / "a" / "chain.txt"
    chain.symlink_to(link)
    with atomic_write(link) as f:
        f.write("first\n")
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "b", "real.txt")
    assert real.read_text() == "first\n"
    with atomic_write(chain, "wb") as f:
        f.write(b"second\n")
    assert chain.is_symlink() and link.is_symlink() and real.read_text() == "second\n"
    assert leftovers(tmp_path / "a") == ["chain.txt", "link.txt"]
    assert leftovers(tmp_path / "b") == ["real.txt"]


@pytest.mark.skipif(not POSIX, reason="symlinks")
def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "out.txt"
    link.symlink_to(tmp_path / "target.txt")
    with atomic_write(link) as f:
        f.write("made\n")
    assert link.is_symlink() and (tmp_path / "target.txt").read_text() == "made\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_is_written_directly_without_a_temporary_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with atomic_write(fifo) as f:
        f.write("1.5\n2.5\n")
    reader.join(timeout=10)
    assert got == [b"1.5\n2.5\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(tmp_path) == ["pipe"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_character_device_is_written_directly_and_never_replaced():
    before = os.lstat("/dev/null")
    with atomic_write("/dev/null") as f:
        f.write("discarded\n")
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_dash_writes_to_standard_output_in_text_and_bytes(capsys, tmp_path):
    with atomic_write("-") as f:
        f.write("text line\n")
    with atomic_write(Path("-"), "wb") as f:
        f.write(b"byte line\n")
    assert capsys.readouterr().out == "text line\nbyte line\n"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="needs /dev/stdout")
def test_dev_stdout_is_the_process_stdout_whether_a_pipe_or_a_file(tmp_path):
    code = ("import sys\nfrom ltr.io import atomic_write\nprint('before', flush=True)\n"
            "with atomic_write(sys.argv[1]) as f:\n    f.write('scores\\n')\nprint('after')\n")
    for path in ("/dev/stdout", "-"):
        piped = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, check=True)
        assert piped.stdout == "before\nscores\nafter\n"
    out = tmp_path / "captured.txt"
    with open(out, "w") as fh:
        inode = os.fstat(fh.fileno()).st_ino
        subprocess.run([sys.executable, "-c", code, "/dev/stdout"], stdout=fh, check=True)
    # The shell's file was appended to through the same descriptor, not truncated or replaced by a rename.
    assert out.read_text() == "before\nscores\nafter\n" and out.stat().st_ino == inode
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# ------------------------------------------------------------------------------------------------------------
# Durability and failures
# ------------------------------------------------------------------------------------------------------------


def test_the_file_is_fsynced_then_renamed_then_its_folder_fsynced(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with atomic_write(tmp_path / "m.txt") as f:
        f.write("x")
    expected = ["fsync file", "rename", "fsync folder"] if POSIX else ["fsync file", "rename"]
    assert events == expected


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_any_exception_leaves_the_previous_file_and_no_temporary(tmp_path, exc):
    p = tmp_path / "model.txt"
    p.write_text("previous\n")
    with pytest.raises(type(exc)):
        with atomic_write(p) as f:
            f.write("half of the new")
            raise exc
    assert p.read_text() == "previous\n" and leftovers(tmp_path) == ["model.txt"]


def test_gz_paths_are_compressed_reproducibly_unless_told_not_to(tmp_path):
    a, b = tmp_path / "a.txt.gz", tmp_path / "b.txt.gz"
    for p in (a, b):
        with atomic_write(p) as f:
            f.write("1 0 d 1\n")
    assert a.read_bytes()[:2] == b"\x1f\x8b" and a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()) == b"1 0 d 1\n"
    with atomic_write(tmp_path / "plain.gz", "wb", compress=False) as f:
        f.write(b"raw")
    assert (tmp_path / "plain.gz").read_bytes() == b"raw"


def one_line_about(e: pytest.ExceptionInfo, path) -> str:
    msg = str(e.value)
    assert "\n" not in msg and ".tmp" not in msg and str(path) in msg
    return msg


def test_a_missing_folder_or_a_folder_as_path_is_a_one_line_error(tmp_path):
    missing = tmp_path / "nope" / "out.txt"
    with pytest.raises(OutputPathError) as e:
        with atomic_write(missing) as f:
            f.write("x")
    assert "does not exist" in one_line_about(e, missing)
    with pytest.raises(OutputPathError) as e:
        with atomic_write(tmp_path) as f:
            f.write("x")
    assert "is a folder" in one_line_about(e, tmp_path)
    with pytest.raises(OutputPathError, match="names a folder"):
        with atomic_write(str(tmp_path / "new") + "/") as f:
            f.write("x")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        with atomic_write(tmp_path / "file" / "out.txt") as f:
            f.write("x")
    assert isinstance(e.value, ValueError) and leftovers(tmp_path) == ["file"]


@pytest.mark.parametrize("err, words", [(13, "not writable"), (30, "read-only file system")])
def test_a_folder_that_cannot_be_written_is_named_without_the_temporary_file(tmp_path, monkeypatch, err, words):
    real_open = os.open

    def refuse(path, flags, mode=0o777, *a, **k):
        if str(path).endswith(".tmp"):
            raise OSError(err, os.strerror(err), str(path))  # the OS names the temporary file
        return real_open(path, flags, mode, *a, **k)

    monkeypatch.setattr(os, "open", refuse)
    out = tmp_path / "scores.txt"
    with pytest.raises(OutputPathError) as e:
        with atomic_write(out) as f:
            f.write("x")
    assert words in one_line_about(e, out)


def test_a_failed_rename_is_named_without_the_temporary_file_and_cleans_up(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "model.txt"
    with pytest.raises(OutputPathError) as e:
        with atomic_write(out) as f:
            f.write("x")
    one_line_about(e, out)
    assert leftovers(tmp_path) == []


def test_a_full_disk_is_named_by_the_output_it_happened_to(tmp_path, monkeypatch):
    import errno

    (tmp_path / "s.txt").write_text("old\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs_module.os, "fsync", full)
    with pytest.raises(OSError) as e:
        with atomic_write(tmp_path / "s.txt") as f:
            f.write("new\n")
    assert e.value.filename == str(tmp_path / "s.txt") and "cannot write: no space left on device" in str(e.value)
    assert (tmp_path / "s.txt").read_text() == "old\n" and os.listdir(tmp_path) == ["s.txt"]


def test_files_written_together_change_none_of_them_when_one_fails(tmp_path, monkeypatch):
    import errno

    from ltr.io.outputs import atomic_write_together

    meta, model = tmp_path / "m.txt.meta.json", tmp_path / "m.txt"
    atomic_write_together([(meta, "old meta\n"), (model, "old model\n")])
    calls = []

    def full_on_the_second(fd):
        calls.append(fd)
        if len(calls) == 2:  # the sidecar fits, the model does not
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs_module.os, "fsync", full_on_the_second)
    with pytest.raises(OSError, match="cannot write: no space left") as e:
        atomic_write_together([(meta, "new meta\n"), (model, "new model\n")])
    assert e.value.filename == str(model)
    assert meta.read_text() == "old meta\n" and model.read_text() == "old model\n"  # neither replaced
    assert sorted(os.listdir(tmp_path)) == ["m.txt", "m.txt.meta.json"]  # no temporary left
    monkeypatch.undo()
    order = []
    real = os.replace
    monkeypatch.setattr(outputs_module.os, "replace", lambda a, b: (order.append(os.path.basename(b)), real(a, b)))
    atomic_write_together([(meta, "new meta\n"), (model, "new model\n")])
    assert order == ["m.txt.meta.json", "m.txt"] and model.read_text() == "new model\n"


@pytest.mark.skipif(IS_ROOT or not POSIX, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_for_real(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputPathError, match="not writable"):
            with atomic_write(ro / "x.txt") as f:
                f.write("x")
        with pytest.raises(OutputPathError, match="not writable"):
            check_output_path(ro / "x.txt")
    finally:
        ro.chmod(0o700)


@pytest.mark.skipif(not POSIX, reason="flock")
def test_two_writers_of_one_pair_leave_one_writers_pair(tmp_path):
    # A renames its sidecar, then waits before its model; B writes the same pair meanwhile: without a lock the
    # files ended as A's model with B's sidecar (or the reverse), which no loader accepts. The two processes signal
    # each other through files (A is between its renames; B is about to write), not by sleeping for a startup time
    # that a busy machine can exceed (then B wrote first and A last: 'A' everywhere, a failure of the test itself).
    script = (
        "import os, sys, time\n"
        "import ltr.io.outputs as o\n"
        "tag, path, signals = sys.argv[1], sys.argv[2], sys.argv[3]\n"
        "def wait_for(name):\n"
        "    end = time.monotonic() + 60\n"
        "    while not os.path.exists(os.path.join(signals, name)) and time.monotonic() < end:\n"
        "        time.sleep(0.01)\n"
        "def signal(name):\n"
        "    open(os.path.join(signals, name), 'w').close()\n"
        "real = os.replace\n"
        "def between(a, b):\n"
        "    real(a, b)\n"
        "    if tag == 'A' and b.endswith('.meta.json'):\n"
        "        signal('A.between')\n"
        "        wait_for('B.ready')\n"
        "        time.sleep(0.5)  # B reaches the lock meanwhile (or, without one, writes both files)\n"
        "o.os.replace = between\n"
        "if tag == 'B':\n"
        "    signal('B.ready')\n"
        "o.atomic_write_together([(path + '.meta.json', tag), (path, tag)])\n"
    )
    target, signals = str(tmp_path / "m.txt"), tmp_path / "signals"
    signals.mkdir()
    a = subprocess.Popen([sys.executable, "-c", script, "A", target, str(signals)])
    import time

    end = time.monotonic() + 60
    while not (signals / "A.between").exists() and time.monotonic() < end:
        time.sleep(0.01)
    assert (signals / "A.between").exists(), "A never reached the point between its two renames"
    b = subprocess.run([sys.executable, "-c", script, "B", target, str(signals)], timeout=60)
    assert a.wait(timeout=60) == 0 and b.returncode == 0
    assert Path(target).read_text() == Path(target + ".meta.json").read_text() == "B"


def test_the_old_private_location_is_the_same_writer():
    from ltr.io import _atomic

    assert _atomic.atomic_write is ltr.io.atomic_write is outputs_module.atomic_write


# ------------------------------------------------------------------------------------------------------------
# check_output_path: before the work starts
# ------------------------------------------------------------------------------------------------------------


def test_check_output_path_creates_parents_and_refuses_folders(tmp_path):
    target = tmp_path / "runs" / "2026" / "bm25.run"
    assert check_output_path(target) == target and target.parent.is_dir() and not target.exists()
    with pytest.raises(OutputPathError, match="does not exist"):
        check_output_path(tmp_path / "other" / "x.txt", create_parents=False)
    assert not (tmp_path / "other").exists()
    with pytest.raises(OutputPathError, match="is a folder") as e:
        check_output_path(tmp_path / "runs")
    assert "\n" not in str(e.value)
    (tmp_path / "plain").write_text("")
    with pytest.raises(OutputPathError, match="not a folder"):
        check_output_path(tmp_path / "plain" / "x.txt")
    assert check_output_path("-") == Path("-")


def test_check_output_path_refuses_a_folder_the_process_cannot_write(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode, **k: False)
    with pytest.raises(OutputPathError, match="not writable"):
        check_output_path(tmp_path / "x.txt")


# ------------------------------------------------------------------------------------------------------------
# Score files
# ------------------------------------------------------------------------------------------------------------


def test_scores_round_trip_bit_exactly_in_shortest_form(tmp_path):
    rng = np.random.default_rng(0)
    s = np.concatenate([rng.standard_normal(500) * 10.0 ** rng.integers(-300, 300, 500),
                        [1 / 3, 0.1, -0.0, 5e-324, np.finfo(np.float64).max, np.inf, -np.inf]])
    p = write_scores(tmp_path / "s.txt", s)
    back = read_scores(p, n_rows=s.size)
    np.testing.assert_array_equal(back.view(np.uint64), s.view(np.uint64))
    lines = p.read_text().splitlines()
    assert lines[500:503] == ["0.3333333333333333", "0.1", "-0.0"]
    # Shortest: with one significant digit fewer, no decimal reads back to the same float.
    for line, v in zip(lines, s.tolist()):
        if not np.isfinite(v) or v == 0:
            continue
        digits = len(line.split("e")[0].lstrip("-").replace(".", "").lstrip("0").rstrip("0"))
        assert float(line) == v
        if digits > 1:
            assert float(f"{v:.{digits - 2}e}") != v, line


def test_score_errors_name_the_line_and_the_token(tmp_path):
    cases = [(b"1.0\n2.0 3.0\n", 2, "2.0 3.0"), (b"0.5\r\n\r\nabc\r\n", 3, "abc"), (b"1_0\n", 1, "1_0")]
    for token in ("nan", "NaN", "-nan"):  # a number, which no metric can rank: said so
        p = tmp_path / "nan.txt"
        p.write_text(f"1\n{token}\n")
        with pytest.raises(ScoreFormatError, match=rf"nan\.txt:2: a score cannot be NaN \(no metric can rank it\) "
                                                   rf"\(token '{token}'\)"):
            read_scores(p)
    for content, line, token in cases:
        p = tmp_path / "bad.txt"
        p.write_bytes(content)
        with pytest.raises(ScoreFormatError, match="one number per line") as e:
            read_scores(p)
        assert (e.value.path, e.value.line, e.value.token) == (str(p), line, token)
        assert f"{p}:{line}:" in str(e.value)
    p.write_bytes(b"1\n2\n")
    with pytest.raises(ScoreFormatError, match="2 scores for 3 rows"):
        read_scores(p, n_rows=3)
    with pytest.raises(ValueError, match="NaN"):
        write_scores(tmp_path / "n.txt", [1.0, float("nan")])


def test_score_files_are_gzip_by_magic_bytes_not_by_name(tmp_path):
    hidden = tmp_path / "scores.txt"  # gzip without a .gz suffix: decompressed
    hidden.write_bytes(gzip.compress(b"0.25\n-1.5\n"))
    assert read_scores(hidden).tolist() == [0.25, -1.5]
    plain = tmp_path / "scores.gz"  # a .gz name holding plain text: read as plain text
    plain.write_bytes(b"3.0\n")
    assert read_scores(plain).tolist() == [3.0]
    written = write_scores(tmp_path / "w.txt.gz", [1.0, 2.0])
    assert written.read_bytes()[:2] == b"\x1f\x8b" and read_scores(written).tolist() == [1.0, 2.0]


def test_scores_to_standard_output(capsys):
    write_scores("-", [0.5, 2.0])
    assert capsys.readouterr().out == "0.5\n2.0\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_device_or_standard_output_is_named_in_the_write_error(monkeypatch, capsys):
    import errno
    import io

    with pytest.raises(OSError, match=r"cannot write: no space left on device") as info:
        write_scores("/dev/full", np.arange(5000.0))
    assert info.value.filename == "/dev/full"

    class Full(io.StringIO):
        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())
    with pytest.raises(OSError) as info:
        write_scores("-", np.arange(3.0))
    assert info.value.filename == "standard output" and "cannot write: no space left" in str(info.value)
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    with pytest.raises(ValueError, match=r"^standard output: cannot write '\\xf6' in its encoding ascii \(set "
                                         r"PYTHONIOENCODING=utf-8"):
        with atomic_write("-") as f:
            f.write("d\xf6c\n")


def test_the_command_line_names_standard_output_when_its_table_cannot_be_written(tmp_path, monkeypatch, capsys):
    import errno

    from ltr.cli import _guard

    assert _guard.error_message(OSError(errno.ENOSPC, "No space left on device")) == \
        "standard output: cannot write: no space left on device"
    assert _guard.error_message(OSError(errno.ENOSPC, "No space left on device", "x.txt")) == \
        "x.txt: No space left on device"
    try:
        "q\xe9 0.5".encode("ascii")
    except UnicodeEncodeError as e:  # a printed table in a locale without the character
        assert _guard.error_message(e) == ("standard output: cannot write '\\xe9' in its encoding ascii (set "
                                            "PYTHONIOENCODING=utf-8, or write to a file: files are UTF-8)")


def test_an_interrupt_swallowed_before_the_output_module_is_imported_still_stops_the_outputs(tmp_path):
    # a trial's Ctrl-C to ltr features, 0.65 s in: swallowed during an import ("Exception ignored in:
    # <function _get_module_lock...>") before ltr.io.outputs was imported, so nothing recorded it; the run finished,
    # replaced the previous output and exited 0
    import subprocess
    import sys
    import textwrap

    kept = tmp_path / "f.letor"
    kept.write_text("previous\n")
    script = textwrap.dedent(f"""
        import signal, sys
        from ltr.cli._guard import terminate_on_sigterm
        assert "ltr.io.outputs" not in sys.modules
        terminate_on_sigterm()
        try:
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass  # as a library's callback swallows it
        from ltr.io.outputs import atomic_write
        try:
            with atomic_write({str(kept)!r}) as f:
                f.write("new\\n")
        except KeyboardInterrupt:
            sys.exit(130)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert kept.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["f.letor"]


@pytest.mark.parametrize(("signum", "code"), [(1, 129), (15, 143)])
def test_a_swallowed_sighup_or_sigterm_surfaces_at_the_next_output_with_its_own_exit_code(tmp_path, signum, code):
    """The handler records the interrupt with its signal: a SIGHUP that a library swallowed during an import
    surfaced at the next output as a SIGTERM (143)."""
    from ltr.cli._guard import Terminated, on_term
    from ltr.io.outputs import stop_outputs

    kept = tmp_path / "m.txt"
    kept.write_text("previous\n")
    try:
        try:
            on_term(signum, None)
        except Terminated:
            pass  # swallowed on its way, as a library's "Exception ignored"
        with pytest.raises(Terminated) as stopped:
            with atomic_write(kept) as f:
                f.write("new\n")
    finally:
        stop_outputs(None)
    assert stopped.value.exit_code == code
    assert kept.read_text() == "previous\n"


def test_an_interrupt_a_library_swallowed_still_keeps_every_output_from_replacing_its_file(tmp_path):
    """The command line's SIGINT/SIGTERM handlers stop the outputs first: a KeyboardInterrupt that a library catches
    on its way (distributed's GC callback reports "Exception ignored") surfaces at the next output instead of the
    run finishing and replacing the previous outputs."""
    from ltr.evaluation import staged_folder
    from ltr.io.outputs import atomic_write_together, stop_outputs

    kept = tmp_path / "result.json"
    kept.write_text("previous\n")
    (tmp_path / "save" / "Fold1").mkdir(parents=True)
    (tmp_path / "save" / "Fold1" / "model.txt").write_text("previous\n")
    stop_outputs(KeyboardInterrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            with atomic_write(kept) as f:
                f.write("new\n")
        with pytest.raises(KeyboardInterrupt):
            atomic_write_together([(kept, "new\n"), (tmp_path / "run.txt", "new\n")])
        with pytest.raises(KeyboardInterrupt):
            with staged_folder(tmp_path / "save") as staging:
                (staging / "Fold1").mkdir()
                (staging / "Fold1" / "model.txt").write_text("new\n")
    finally:
        stop_outputs(None)
    assert kept.read_text() == "previous\n" and not (tmp_path / "run.txt").exists()
    assert (tmp_path / "save" / "Fold1" / "model.txt").read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json", "save"]  # no temporaries left
    assert sorted(p.name for p in (tmp_path / "save").iterdir()) == ["Fold1"]
    with atomic_write(kept) as f:  # allowed again
        f.write("new\n")
    assert kept.read_text() == "new\n"


def test_an_interrupt_between_two_renames_of_a_set_is_raised_once_the_set_is_whole(tmp_path, monkeypatch):
    """The command line's SIGINT handler raised at once: a Ctrl-C after the first of a set's renames left the new
    LETOR file beside the previous run file, and a stale query-id map removed after the set beside the new file
    (then applied to its queries by ltr predict --run), with exit 130 and 'no output file was left half-written'
    (trial t48/features: 1 of 10 random interrupts of an NPL run)."""
    import signal

    from ltr import _checked_io
    from ltr.cli._guard import on_int
    from ltr.io import outputs
    from ltr.io.outputs import outputs_together

    a, b, stale = tmp_path / "a.letor", tmp_path / "a.run", tmp_path / "a.letor.qids.tsv"
    for p in (a, b, stale):
        p.write_text("old\n")
    real, renamed = outputs.os.replace, []

    def replace_then_interrupt(src, dst):
        real(src, dst)
        renamed.append(dst)
        if str(dst) == str(a):  # the first of the set's renames (the stale map was set aside before it)
            on_int(signal.SIGINT, None)  # as the signal arriving here would run it

    monkeypatch.setattr(outputs.os, "replace", replace_then_interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            with outputs_together(a, b, remove=(stale,)) as (pa, pb):
                for p in (pa, pb):
                    with open(p, "w") as f:
                        f.write("new\n")
    finally:
        _checked_io.stop_outputs(None)
    assert [str(p) for p in renamed[1:]] == [str(a), str(b)] and a.read_text() == b.read_text() == "new\n"
    assert not stale.exists() and not _checked_io.holding
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.letor", "a.run"]  # no temporary file left


def test_overlapping_holds_of_two_threads_release_the_interrupts():
    """A held flag restored from a saved value stayed held after two overlapping blocks (A in, B in, A out, B out),
    and every later Ctrl-C was only recorded (the review of t48)."""
    from ltr import _checked_io

    a, b = _checked_io.interrupts_held(), _checked_io.interrupts_held()
    a.__enter__()
    b.__enter__()
    assert _checked_io.holding
    a.__exit__(None, None, None)
    assert _checked_io.holding  # B still holds
    b.__exit__(None, None, None)
    assert not _checked_io.holding
