"""Property tests (Hypothesis) for LETOR I/O: exact round trips, correct rounding, and fuzzed files."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ltr.datasets import RankingDataset
from ltr.exceptions import LetorFormatError
from ltr.groups import group_ptr_from_sizes
from ltr.io import _letor_parse as kern
from ltr.io import letor
from ltr.io.letor import read_letor, write_letor

# LTRKIT_HYPOTHESIS_SCALE=50 runs a long fuzzing campaign; the default keeps the suite fast.
SCALE = float(os.environ.get("LTRKIT_HYPOTHESIS_SCALE", "1"))
SETTINGS = settings(max_examples=int(80 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_SETTINGS = settings(max_examples=int(120 * SCALE), deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite_f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
no_space = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8).filter(
    lambda s: not any(c.isspace() for c in s))
one_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=12)


@st.composite
def datasets(draw) -> tuple[RankingDataset, float]:
    """A valid dataset and the reader options to read it back with."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    n = sum(sizes)
    n_features = draw(st.integers(0, 5))
    X = draw(arrays(np.float32, (n, n_features), elements=finite_f32))
    options: dict = {}
    if draw(st.booleans()):  # sparse: a random subset stored, explicit zeros included
        stored = draw(arrays(np.bool_, (n, n_features)))
        rows, cols = np.nonzero(stored)
        X = sp.csr_matrix((X[rows, cols], (rows, cols)), shape=(n, n_features), dtype=np.float32)
    elif draw(st.booleans()):  # dense with NaN for missing values: written as nan, read with nonfinite="allow"
        X[draw(arrays(np.bool_, (n, n_features)))] = np.nan
        options["nonfinite"] = "allow"
    labels = st.one_of(st.integers(0, 4).map(float), st.floats(-1e38, 1e38)).filter(  # the range read_letor keeps
        lambda v: v != -1.0)
    y = np.array(draw(st.lists(labels, min_size=n, max_size=n)), dtype=np.float64)
    qids = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=len(sizes), max_size=len(sizes), unique=True))
    kw: dict = {}
    doc_ids = draw(st.one_of(st.none(), st.lists(no_space, min_size=n, max_size=n)))
    if doc_ids is not None:
        kw["doc_ids"] = np.array(doc_ids + [None], dtype=object)[:-1]
    if draw(st.booleans()):
        # after 'docid = X', text starting with a lone '=' or ':' would make X the next pair's key
        after_id = one_line.filter(lambda e: not re.match(r"\s*[=:](?:\s|$)", e))
        extra = draw(st.lists(one_line if doc_ids is None else after_id, min_size=n, max_size=n))
        if doc_ids is not None:
            extra = [f"docid = {d}{' ' + e if e else ''}" for d, e in zip(doc_ids, extra)]
        kw["comments"] = np.array(extra + [None], dtype=object)[:-1]
    if draw(st.booleans()):
        kw["feature_names"] = tuple(draw(st.lists(st.text(max_size=6), min_size=n_features, max_size=n_features)))
    d = RankingDataset(X=X, y=y, qid=np.repeat(np.array(qids, dtype=np.int64), sizes),
                       group_ptr=group_ptr_from_sizes(sizes), **kw)
    return d, options


@SETTINGS
@given(case=datasets(), gz=st.booleans(), chunk=st.sampled_from([16, 64, 1 << 20]), n_jobs=st.sampled_from([1, 2]))
def test_write_then_read_is_the_identity(case, gz, chunk, n_jobs):
    d, options = case
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(letor, "_CHUNK_BYTES", chunk):
        path = write_letor(Path(tmp) / ("d.txt.gz" if gz else "d.txt"), d)
        back = read_letor(path, sparse=sp.issparse(d.X), n_jobs=n_jobs, **options)
    assert back.equals(d)


@SETTINGS
@given(bits=st.integers(0, 2**32 - 1))
def test_every_float32_is_written_with_text_that_reads_back_to_its_bits(bits):
    v = np.array([bits], dtype=np.uint32).view(np.float32)[0]
    out = np.zeros(32, np.uint8)
    text = out[: kern.write_f32(out, 0, v)].tobytes()
    if np.isnan(v):
        assert text == b"nan"
        return
    with np.errstate(over="ignore"):
        assert np.float32(float(text)).tobytes() == v.tobytes()
    buf = np.frombuffer(text + b"\n", dtype=np.uint8)
    got, stop, status = kern.parse_number(buf, 0, buf.size)
    assert stop == len(text)
    if status == kern.NUM_FAST:
        assert np.float32(got).tobytes() == v.tobytes()


decimal_text = st.builds(
    lambda sign, i, f, e: f"{sign}{i}{'.' + f if f is not None else ''}{'e' + str(e) if e is not None else ''}",
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", min_size=1, max_size=25),
    st.one_of(st.none(), st.text("0123456789", max_size=25)),
    st.one_of(st.none(), st.integers(-340, 340)),
)


@SETTINGS
@given(texts=st.lists(decimal_text, min_size=1, max_size=30))
def test_random_decimals_read_as_strtod_then_cast(texts):
    # Labels are float64 and must be within +-1e38 (finite) and not -1 (unjudged): those take the label 0 instead.
    labels = [t if abs(float(t)) <= 1e38 and float(t) != -1.0 else "0" for t in texts]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "d.txt"
        p.write_text("".join(f"{lab} qid:1 1:{t}\n" for lab, t in zip(labels, texts)))
        d = read_letor(p, overflow="clip")
    with np.errstate(over="ignore"):
        expected = np.array([np.float32(float(t)) for t in texts], dtype=np.float32)
    expected = np.where(np.isinf(expected), np.sign(expected) * np.finfo(np.float32).max, expected)
    np.testing.assert_array_equal(d.X[:, 0].view(np.uint32), expected.astype(np.float32).view(np.uint32))
    np.testing.assert_array_equal(d.y.view(np.uint64), np.array([float(t) for t in labels]).view(np.uint64))


NASTY = [b"", b" ", b"\t", b"\r", b"\n", b"\r\n", b"#", b":", b"::", b"\x00", b"\xff", b"\x1f\x8b", b"nan", b"-inf",
         b"-1", b"qid:", b"qid:x", b"qid:1", b"0:1", b"1:1e999", b"1:1e-999", b"99999999999:1", b"2147483647:1",
         b"1:--1", b"1e", b".", b"-", b"1:2:3", b"docid=", b"1:0.5", b"3:1", b"1.7976931348623157e308", b"\xef\xbb\xbf",
         b"# ltrkit-letor: {}", b'# ltrkit-letor: {"n_features": 1}', b"# ltrkit-letor: [", b"0" * 30]


@st.composite
def corrupted(draw) -> bytes:
    d, _ = draw(datasets())
    with tempfile.TemporaryDirectory() as tmp:
        data = bytearray(write_letor(Path(tmp) / "d.txt", d, header=draw(st.booleans())).read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "token"]))
        pos = draw(st.integers(0, len(data)))
        if kind == "replace" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.one_of(st.binary(min_size=1, max_size=4), st.sampled_from(NASTY)))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 8))]
        else:
            tokens = bytes(data).split(b" ")
            k = draw(st.integers(0, len(tokens) - 1))
            tokens[k] = draw(st.sampled_from(NASTY))
            data = bytearray(b" ".join(tokens))
    return bytes(data)


@FUZZ_SETTINGS
@given(data=corrupted(), sparse=st.booleans(), sort=st.booleans(), lenient=st.booleans(),
       n_features=st.sampled_from([None, 3]), sidecar=st.sampled_from([None, b"1\n2\n", b"x\n", b"4\n"]),
       chunk=st.sampled_from([32, 1 << 20]))
def test_corrupted_files_parse_or_raise_letor_format_error_only(data, sparse, sort, lenient, n_features, sidecar,
                                                                 chunk):
    options = dict(nonfinite="allow", overflow="clip", unjudged="drop") if lenient else {}
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(letor, "_CHUNK_BYTES", chunk):
        p = Path(tmp) / "d.txt"
        p.write_bytes(data)
        if sidecar is not None:
            (Path(tmp) / "d.txt.query").write_bytes(sidecar)
        try:
            d = read_letor(p, sparse=sparse, sort=sort, n_features=n_features,
                           query_file="auto" if sidecar is not None else None, **options)
        except LetorFormatError as e:
            assert e.path is not None and str(e)
            if e.line is not None:
                assert 1 <= e.line <= data.count(b"\n") + 1
            return
    assert isinstance(d, RankingDataset) and d.n_rows >= 1
    assert d.group_ptr[-1] == d.n_rows and d.qid.shape == (d.n_rows,)
    if n_features is not None:
        assert d.n_features == n_features
