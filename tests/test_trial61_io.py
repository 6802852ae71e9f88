"""Defects in reading compressed files found by the user trial of stop 61 (datasets, findings 1, 4 and 5), each with
the behaviour that mends it."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import threading
import zipfile

import pytest

import ltr.registry as reg
from ltr.exceptions import LetorFormatError
from ltr.io import files as ltr_files
from ltr.io import read_letor
from ltr.io.files import open_binary, read_bytes
from ltr.registry import ArchiveError
from ltr.registry._fetch import DOWNLOADS

COMPRESS = {"bz2": bz2.compress, "xz": lzma.compress}
KIND = {"bz2": "bzip2", "xz": "xz"}


@pytest.fixture()
def halves(shared_file):
    """MQ2008's Fold2/test.txt (2,933 rows) cut at a line end into two parts of 1,466 and 1,467 rows."""
    lines = gzip.decompress(shared_file("mq2008/Fold2/test.txt.gz").read_bytes()).splitlines(keepends=True)
    return b"".join(lines[:1466]), b"".join(lines[1466:])


def _rows(path) -> int:
    return read_letor(path).X.shape[0]


# ------------------------------------------------------------------------------------------------------------------
# Finding 1: a later stream of a multi-stream .bz2/.xz file that is damaged lost its rows silently
@pytest.mark.parametrize("ext", ["bz2", "xz"])
def test_every_stream_of_a_multi_stream_file_is_read(halves, tmp_path, ext):
    """``cat a.bz2 b.bz2`` (and pbzip2's output) is one file of several streams: all of them are rows."""
    a, b = halves
    path = tmp_path / f"test.txt.{ext}"
    path.write_bytes(COMPRESS[ext](a) + COMPRESS[ext](b))
    assert _rows(path) == 2933
    assert read_bytes(path) == a + b


@pytest.mark.parametrize("ext", ["bz2", "xz"])
def test_a_later_stream_with_a_damaged_header_is_refused_not_dropped(halves, tmp_path, ext):
    """bz2.BZ2File and lzma.LZMAFile take bytes after a finished stream that start no valid stream for trailing
    data and stop: 1,466 of 2,933 rows were read, exit 0 (gzip refused the same damage)."""
    a, b = halves
    first, second = COMPRESS[ext](a), bytearray(COMPRESS[ext](b))
    second[1] ^= 0x20  # one flipped bit in the second stream's magic bytes
    path = tmp_path / f"test.txt.{ext}"
    path.write_bytes(first + bytes(second))
    kind = KIND[ext]
    said = (f"not a valid compressed stream ({len(second)} bytes after the {kind} stream ending at byte {len(first)} "
            f"are not another {kind} stream: they start {bytes(second[:6])!r} (a damaged or cut copy?))")
    with pytest.raises(LetorFormatError) as info:
        read_letor(path)
    assert said in str(info.value) and str(path) in str(info.value)
    with pytest.raises(OSError, match=f"are not another {kind} stream"), open_binary(path) as f:
        for _ in f:  # the line-by-line readers (ltr info's head, the teacher files) meet it too
            pass


@pytest.mark.parametrize("ext", ["bz2", "xz"])
def test_garbage_after_the_last_stream_is_refused(tmp_path, ext):
    path = tmp_path / f"t.txt.{ext}"
    path.write_bytes(COMPRESS[ext](b"1 qid:1 1:0.5\n") + b"junk")
    with pytest.raises(OSError, match=r"^4 bytes after the .* stream ending at byte \d+ are not another"):
        with open_binary(path) as f:
            f.read()


@pytest.mark.parametrize("ext", ["bz2", "xz"])
def test_a_damaged_later_stream_is_an_os_error_saying_where_it_starts(tmp_path, ext):
    """A damaged stream body was lzma's LZMAError (no OSError: the line readers that catch a bad gzip file as one
    gave a traceback); it is an OSError now, with the decompressor's words and the stream's place."""
    first = COMPRESS[ext](b"1 qid:1 1:0.5\n" * 50)
    second = bytearray(COMPRESS[ext](bytes(range(256)) * 40))
    second[len(second) // 2] ^= 0xFF
    path = tmp_path / f"t.txt.{ext}"
    path.write_bytes(first + bytes(second))
    with pytest.raises(OSError, match=f"in the {KIND[ext]} stream starting at byte {len(first)}"):
        with open_binary(path) as f:
            f.read()


def test_a_cut_stream_is_still_said_to_end_before_its_marker(tmp_path):
    path = tmp_path / "t.txt.xz"
    path.write_bytes(lzma.compress(b"1 qid:1 1:0.5\n" * 100)[:-10])
    with pytest.raises(EOFError, match="ended before the end-of-stream marker"), open_binary(path) as f:
        f.read()


def test_streams_are_read_in_chunks_across_every_boundary(monkeypatch, tmp_path):
    """The reader streams (never the whole file at once): with a 7-byte chunk every boundary falls inside a stream,
    its magic bytes or its padding somewhere, and the bytes, line by line or whole, are those of the streams."""
    monkeypatch.setattr(ltr_files, "_CHUNK", 7)
    parts = [b"".join(b"%d qid:%d 1:0.%d\n" % (k % 3, q, k) for k in range(40)) for q in range(5)]
    for ext, padding in (("bz2", b"\0" * 3), ("xz", b"\0" * 8)):
        path = tmp_path / f"t.txt.{ext}"
        path.write_bytes(padding.join(COMPRESS[ext](p) for p in parts) + padding)
        with open_binary(path) as f:
            assert f.read() == b"".join(parts)
        with open_binary(path) as f:
            assert list(f) == b"".join(parts).splitlines(keepends=True)


def test_a_pipe_of_two_streams_reads_both_and_refuses_a_damaged_second(tmp_path):
    """A pipe (``<(cat a.bz2 b.bz2)``) cannot seek: its kept bytes are read as a file's are."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def serve(data: bytes) -> None:
        with open(fifo, "wb") as w:
            w.write(data)

    for data, wanted in ((bz2.compress(b"1 qid:1 1:0.5\n") + bz2.compress(b"0 qid:1 1:0.25\n"), 2),
                         (bz2.compress(b"1 qid:1 1:0.5\n") + b"Bzh9" + bz2.compress(b"0 qid:1 1:0.25\n")[4:], None)):
        writer = threading.Thread(target=serve, args=(data,))
        writer.start()
        try:
            if wanted is None:
                with pytest.raises(LetorFormatError, match="are not another bzip2 stream"):
                    read_letor(str(fifo))
            else:
                assert read_letor(str(fifo)).X.shape[0] == wanted
        finally:
            writer.join()
            ltr_files._STREAMS.pop(str(fifo), None)


# ------------------------------------------------------------------------------------------------------------------
# Finding 5: xz's stream padding (NULs, a multiple of 4, after a stream), which xz -t accepts, was refused as cut
def test_xz_stream_padding_is_read_after_and_between_streams(halves, tmp_path):
    a, b = halves
    path = tmp_path / "test.txt.xz"
    path.write_bytes(lzma.compress(a) + b"\0" * 4)
    assert _rows(path) == 1466
    path.write_bytes(lzma.compress(a) + b"\0" * 8 + lzma.compress(b) + b"\0" * 12)
    assert _rows(path) == 2933


@pytest.mark.parametrize("padding", [b"\0" * 3, b"\0" * 6 + lzma.compress(b"0 qid:2 1:1\n")],
                         ids=["three NULs at the end", "six NULs between streams"])
def test_xz_padding_that_is_no_multiple_of_four_is_refused(tmp_path, padding):
    path = tmp_path / "t.txt.xz"
    stream = lzma.compress(b"1 qid:1 1:0.5\n")
    path.write_bytes(stream + padding)
    nuls = len(padding) - len(padding.lstrip(b"\0"))
    with pytest.raises(LetorFormatError, match=rf"{nuls} NUL bytes after the xz stream ending at byte "
                                               rf"{len(stream)}: xz's stream padding is a multiple of 4 bytes"):
        read_letor(path)


def test_bzip2_nul_bytes_after_and_between_streams_are_read_past(tmp_path):
    """bzip2 has no padding, but NULs (dd conv=sync, a tape block) hold no rows: read past, at the end as before,
    and between streams, where bz2.BZ2File stopped and dropped the next stream's rows."""
    path = tmp_path / "t.txt.bz2"
    path.write_bytes(bz2.compress(b"1 qid:1 1:0.5\n") + b"\0" * 5 + bz2.compress(b"0 qid:1 1:0.25\n") + b"\0" * 9)
    assert read_bytes(path) == b"1 qid:1 1:0.5\n0 qid:1 1:0.25\n"


def test_fetch_unpacks_a_tar_xz_whose_later_stream_is_damaged_as_unreadable(tmp_path):
    """Fetch reads tar archives through the readers' opener: a damaged stream after the tar's is no longer taken
    for trailing data (and ``_xz_padded`` went: the opener reads padding)."""
    import tarfile

    from ltr.registry._fetch import _unpack

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as t:
        info = tarfile.TarInfo("toy/x.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    path = tmp_path / "toy.tar.xz"
    path.write_bytes(buf.getvalue() + b"\0" * 4 + b"\xfd7zXY\0 a damaged stream")
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(reg.ChecksumError, match=r"toy.tar.xz is not a readable tar archive \(.* are not another xz"):
        _unpack({"format": "tar", "file": "toy.tar.xz"}, path, dest, "toy", tmp_path / "toy")


# ------------------------------------------------------------------------------------------------------------------
# Finding 4: a zip member Python's zipfile cannot read gave zipfile's bare words (a NotImplementedError in Python)
def _patched_zip(path, *, method: int | None = None, encrypted: bool = False) -> None:
    """A stored zip of a toy set whose members say compression ``method`` (9: Deflate64, as Windows' zipper writes
    for large files) or are flagged encrypted, in their local and central headers, as the trial's script made it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for fold in (1, 2):
            for split in ("train", "vali", "test"):
                z.writestr(f"toy/Fold{fold}/{split}.txt", "1 qid:1 1:0.5 2:0.5\n0 qid:1 1:0.25 2:0.25\n")
    data = bytearray(buf.getvalue())
    for magic, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the method field follows the flags
        i = 0
        while (i := data.find(magic, i)) >= 0:
            if method is not None:
                data[i + flags + 2:i + flags + 4] = method.to_bytes(2, "little")
            if encrypted:
                data[i + flags] |= 0x1
            i += 4
    path.write_bytes(bytes(data))


def _toy_entry() -> reg.Entry:
    return reg.Entry.from_dict({
        "name": "toy", "kind": "letor", "title": "toy", "homepage": "http://127.0.0.1/", "license": "test data",
        "sources": ["generated by the test"],
        "archives": [{"file": "toy.zip", "format": "zip", "urls": [], "manual": True,
                      "checksum_source": "none published"}],
        "layout": {"root": ["toy", ""], "folds": 2, "fold_dir": "Fold{fold}", "train": ["train.txt"],
                   "vali": ["vali.txt"], "test": ["test.txt"]},
        "format": {"n_features": 2, "labels": [0, 1], "qid": "column"},
        "features": {"names": ["a", "b"], "source": "the test"}}, "<test>")


@pytest.mark.parametrize(("patch", "why"), [
    ({"method": 9}, r"is compressed with method 9 \(Deflate64\), which Python's zipfile cannot read"),
    ({"encrypted": True}, r"is encrypted \(a password is needed to extract it\)")])
def test_a_zip_member_zipfile_cannot_read_is_named_with_the_tools_that_can(tmp_path, patch, why):
    """zipfile's NotImplementedError ('That compression method is not supported') and RuntimeError ('File
    <ZipInfo ...> is encrypted, password required for extraction') came out bare, naming neither the archive nor
    the way out; in Python, a builtins.NotImplementedError rather than the registry's own error."""
    archive = tmp_path / DOWNLOADS / "toy.zip"
    archive.parent.mkdir()
    _patched_zip(archive, **patch)
    dest = tmp_path / "toy"
    with pytest.raises(ArchiveError, match=f"^toy.zip: member 'toy/Fold1/train.txt' {why}; unpack the archive with "
                                           "unzip, 7z x or bsdtar -xf into ") as info:
        reg.fetch(_toy_entry(), tmp_path, progress=False)
    assert f"into {dest} (the archive is kept at {archive})" in str(info.value)
    assert str(info.value).endswith(f"check that folder with ltr.registry.verify('toy', {str(dest)!r})")
    assert info.value.cli_message().endswith(f"check that folder with ltr data verify toy {dest}")
    assert archive.is_file() and not dest.exists()  # a sound archive: kept where it is, nothing installed
    assert sorted(p.name for p in tmp_path.iterdir()) == [DOWNLOADS]  # no staging folder left
