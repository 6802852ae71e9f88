"""Positional inverted index: postings against a brute-force reference, fields, persistence, damaged files."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features._kernels.postings import build_postings, match_query
from features.analysis import Analyzer
from features.collections import Collection
from features.errors import IndexFormatError
from features.index import InvertedIndex

PLAIN = Analyzer(stopwords=None, stemmer=None)


def brute_postings(docs: list[list[str]]) -> dict[str, dict[int, list[int]]]:
    """term -> {doc: [positions]} by direct enumeration."""
    out: dict[str, dict[int, list[int]]] = {}
    for d, toks in enumerate(docs):
        for p, t in enumerate(toks):
            out.setdefault(t, {}).setdefault(d, []).append(p)
    return out


def index_postings(ix: InvertedIndex, field: str) -> dict[str, dict[int, list[int]]]:
    f = ix.field(field)
    out: dict[str, dict[int, list[int]]] = {}
    for t, term in enumerate(ix.terms):
        for p in range(f.indptr[t], f.indptr[t + 1]):
            pos = f.positions[f.pos_ptr[p]:f.pos_ptr[p + 1]].tolist()
            assert len(pos) == f.tf[p]
            out.setdefault(term, {})[int(f.docs[p])] = pos
    return out


words = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=12), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(words)
def test_postings_equal_a_brute_force_enumeration(docs):
    ix = InvertedIndex.build(Collection(tuple(map(str, range(len(docs)))), {"body": [" ".join(d) for d in docs]}),
                             PLAIN)
    assert index_postings(ix, "body") == brute_postings(docs)
    f = ix.field("body")
    assert f.doc_len.tolist() == [len(d) for d in docs]
    assert f.df.tolist() == [len({i for i, d in enumerate(docs) if t in d}) for t in ix.terms]
    assert f.cf.tolist() == [sum(d.count(t) for d in docs) for t in ix.terms]
    assert f.total_len == sum(map(len, docs))


def test_concatenated_field_places_fields_a_gap_apart_and_skips_empty_fields():
    c = Collection(("d1", "d2", "d3"), {"title": ["wing flutter", "", ""], "body": ["wing lift", "heat", ""]})
    ix = InvertedIndex.build(c, PLAIN, position_gap=5)
    assert ix.field_names == ("title", "body", "all")
    post = index_postings(ix, "all")
    # d1: title tokens at 0, 1; body starts at len(title) + gap = 2 + 5 = 7
    assert post["wing"][0] == [0, 7] and post["lift"][0] == [8] and post["flutter"][0] == [1]
    assert post["heat"][1] == [0 + 5]  # empty title: the gap still separates the (empty) first field
    assert ix.field("all").doc_len.tolist() == [4, 1, 0]
    vaswani_like = Collection(("a", "b"), {"title": ["", ""], "body": ["x y", "y"]})
    one = InvertedIndex.build(vaswani_like, PLAIN)
    assert one.field_names == ("body", "all") and one.aliases == {"all": "body"}
    assert one.field("all") is one.field("body")


def test_dropped_tokens_keep_their_positions_as_lucene_and_indri_keep_them():
    # Lucene's StopFilter/LengthFilter add the dropped tokens' position increments; Indri's stopper leaves a null
    # term in place: "the wing of the plane" has wing at 1 and plane at 4, not adjacent (it had 0 and 1)
    ix = InvertedIndex.build(Collection(("d",), {"body": ["the wing of the plane"]}), Analyzer(stemmer=None))
    assert index_postings(ix, "body") == {"wing": {0: [1]}, "plane": {0: [4]}}
    assert ix.field("body").doc_len.tolist() == [2]  # lengths count the kept terms (Lucene's norms, Indri's)
    filtered = Analyzer(stopwords=None, stemmer=None, max_length=5)
    ix = InvertedIndex.build(Collection(("d",), {"body": ["wing extraordinarily lift"]}), filtered)
    assert index_postings(ix, "body") == {"wing": {0: [0]}, "lift": {0: [2]}}
    # in the concatenated field a field's trailing dropped tokens count too before the gap
    c = Collection(("d1", "d2"), {"title": ["wing of the", "the"], "body": ["the lift", "lift"]})
    ix = InvertedIndex.build(c, Analyzer(stemmer=None), position_gap=5)
    post = index_postings(ix, "all")
    assert post["wing"] == {0: [0]} and post["lift"] == {0: [3 + 5 + 1], 1: [1 + 5]}
    assert ix.field("all").doc_len.tolist() == [2, 1]


def test_empty_collection_documents_and_unknown_fields():
    ix = InvertedIndex.build(Collection(("a", "b"), {"body": ["", "  "]}), PLAIN)
    assert ix.n_terms == 0 and ix.field("body").doc_len.tolist() == [0, 0] and ix.field("body").avg_len == 0.0
    with pytest.raises(ValueError, match=r"no field 'title' in this index; it has \['body', 'all'\]"):
        ix.field("title")
    with pytest.raises(ValueError, match="not in the collection"):
        InvertedIndex.build(Collection(("a",), {"body": ["x"]}), PLAIN, fields=["title"])


def test_query_terms_keep_unseen_terms_with_id_minus_one():
    ix = InvertedIndex.build(Collection(("d",), {"body": ["wing flow"]}), Analyzer(stemmer="porter"))
    q = ix.query_terms("Flows of the wings over wings")
    assert q.terms == ("flow", "wing", "over") and q.qtf.tolist() == [1, 2, 1]  # first-occurrence order
    assert q.ids.tolist() == [ix.vocab["flow"], ix.vocab["wing"], -1] and q.sequence.tolist() == [0, 1, 2, 1]
    assert ix.query_terms("the of").terms == ()
    assert ix.doc_index(["d", "nope"]).tolist() == [0, -1]


def test_build_postings_kernel_matches_its_python_twin():
    rng = np.random.default_rng(0)
    lens = rng.integers(0, 6, size=7)
    ids = rng.integers(0, 4, size=lens.sum()).astype(np.int32)
    doc = np.repeat(np.arange(7, dtype=np.int32), lens)
    pos = (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)).astype(np.int32)
    for a, b in zip(build_postings(ids, doc, pos, 4), build_postings.py_func(ids, doc, pos, 4)):
        np.testing.assert_array_equal(a, b)


def test_match_query_kernel_matches_its_python_twin_and_brute_force():
    docs = [["a", "b", "a"], ["c"], ["b", "b"], []]
    ix = InvertedIndex.build(Collection(("0", "1", "2", "3"), {"body": [" ".join(d) for d in docs]}), PLAIN)
    f = ix.field("body")
    qterms = np.array([ix.vocab["a"], ix.vocab["b"], -1], dtype=np.int32)
    cand = np.array([3, 0, 2], dtype=np.int32)
    out = [(np.empty(9, np.int32), np.empty(9, np.int64)) for _ in range(2)]
    match_query(f.indptr, f.docs, f.tf, qterms, cand, *out[0])
    match_query.py_func(f.indptr, f.docs, f.tf, qterms, cand, *out[1])
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    expected = [docs[d].count(t) for d in (3, 0, 2) for t in ("a", "b", "<unseen>")]
    assert out[0][0].tolist() == expected
    assert (out[0][1] >= 0).tolist() == [c > 0 for c in expected]


# -- persistence -----------------------------------------------------------------------------------------------------
@pytest.fixture
def small_index():
    c = Collection(("d1", "d2", "d3"), {"title": ["Wing flutter", "", "Heat"],
                                        "body": ["wing lift and flutter", "heat transfer", ""]})
    return InvertedIndex.build(c, Analyzer())


def test_save_load_round_trip_keeps_every_array_and_the_analyzer(small_index, tmp_path):
    p = tmp_path / "ix.npz"
    small_index.save(p)
    back = InvertedIndex.load(p)
    assert back.doc_ids.tolist() == small_index.doc_ids.tolist() and back.terms == small_index.terms
    assert back.analyzer == small_index.analyzer and back.aliases == small_index.aliases
    for f in small_index.field_names:
        for name in ("indptr", "docs", "tf", "pos_ptr", "positions", "doc_len"):
            np.testing.assert_array_equal(getattr(back.field(f), name), getattr(small_index.field(f), name))
    assert back.query_terms("WINGS").ids.tolist() == [small_index.vocab["wing"]]
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed away


def test_an_index_knows_the_text_it_was_built_from(small_index, tmp_path):
    """Same ids, other text (an edited copy, or --duplicates last instead of first): the saved index is not the
    collection's. Only the indexed fields count; an index saved before the fingerprint is checked by its ids."""
    same = Collection(("d1", "d2", "d3"), {"title": ["Wing flutter", "", "Heat"],
                                           "body": ["wing lift and flutter", "heat transfer", ""],
                                           "url": ["u1", "u2", "u3"]})
    assert small_index.source[0] == ("title", "body") and small_index.mismatch(same) is None
    p = tmp_path / "ix.npz"
    small_index.save(p)
    back = InvertedIndex.load(p)
    assert back.source == small_index.source and back.mismatch(same) is None
    edited = Collection(same.doc_ids, {**same.fields, "body": ["wing lift and flutter", "heat transfer airbus", ""]})
    assert "same ids but other text" in back.mismatch(edited)
    moved = Collection(same.doc_ids, {"title": ["", "", "Heat"], "body": same.fields["body"]})  # text moved fields
    assert "same ids but other text" in back.mismatch(moved)
    assert "other documents" in back.mismatch(Collection(("d1", "d3", "d2"), {"body": ["", "", ""]}))
    assert "same ids but other text" in back.mismatch(Collection(same.doc_ids, {"body": same.fields["body"]}))
    old = InvertedIndex(back.doc_ids, back.terms, back.analyzer, {f: back.field(f) for f in ("title", "body", "all")})
    old.save(tmp_path / "old.npz")
    assert InvertedIndex.load(tmp_path / "old.npz").source is None
    assert InvertedIndex.load(tmp_path / "old.npz").mismatch(edited) is None


def test_ltr_features_refuses_a_saved_index_of_other_text(tmp_path, capsys):
    from ltr.cli import main

    docs, q, qr = tmp_path / "d.trec", tmp_path / "q.tsv", tmp_path / "qr"
    docs.write_text("<DOC><DOCNO>d1</DOCNO><TEXT>airbus subsidies</TEXT></DOC>\n"
                    "<DOC><DOCNO>d2</DOCNO><TEXT>boeing</TEXT></DOC>\n")
    q.write_text("1\tairbus subsidies\n")
    qr.write_text("1 0 d1 1\n")
    argv = ["features", "--collection", str(docs), "--queries", str(q), "--qrels", str(qr), "--topk", "5",
            "--index", str(tmp_path / "ix.npz"), "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "a.letor")]) == 0
    docs.write_text(docs.read_text().replace("boeing", "boeing airbus"))
    assert main([*argv, "--out", str(tmp_path / "b.letor")]) == 1
    assert (f"index {tmp_path / 'ix.npz'} was built from documents with the same ids but other text than the "
            "collection's") in capsys.readouterr().err
    assert not (tmp_path / "b.letor").exists()


def test_memory_usage_counts_every_array(small_index):
    mem = small_index.memory_usage()
    assert set(mem) == {"title", "body", "all", "doc_ids", "vocab"}
    f = small_index.field("body")
    assert mem["body"] == sum(a.nbytes for a in (f.indptr, f.docs, f.tf, f.pos_ptr, f.positions, f.doc_len))
    assert small_index.nbytes == sum(mem.values()) and "MiB" in repr(small_index)


def test_damaged_index_files_raise_index_format_error(small_index, tmp_path):
    p = tmp_path / "ix.npz"
    small_index.save(p)
    raw = p.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IndexFormatError, match="not a readable index file"):
        InvertedIndex.load(tmp_path / "trunc.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(IndexFormatError, match="not a readable index file"):
        InvertedIndex.load(tmp_path / "text.npz")
    with pytest.raises(IndexFormatError, match="not found"):
        InvertedIndex.load(tmp_path / "missing.npz")


def _rewrite(src, dst, change):
    """Copy an index file, passing every (name, array) through ``change``."""
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    arrays = dict(change(arrays))
    with open(dst, "wb") as f:
        np.savez(f, **arrays)


def test_edited_arrays_fail_the_crc_and_structural_checks(small_index, tmp_path):
    p = tmp_path / "ix.npz"
    small_index.save(p)

    def flip(arrays):
        arrays["body.tf"] = arrays["body.tf"] + 1
        return arrays

    _rewrite(p, tmp_path / "flip.npz", flip)
    with pytest.raises(IndexFormatError, match=r"array 'body.tf' fails its CRC-32 check"):
        InvertedIndex.load(tmp_path / "flip.npz")

    def inconsistent(arrays):  # edit an array and fix its checksum: the structure check must catch it
        import zlib

        meta = json.loads(arrays["__meta__"].tobytes())
        arrays["body.tf"] = arrays["body.tf"] + 1
        meta["crc32"]["body.tf"] = zlib.crc32(arrays["body.tf"].tobytes())
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        return arrays

    _rewrite(p, tmp_path / "bad.npz", inconsistent)
    with pytest.raises(IndexFormatError, match="position offsets do not match the term frequencies"):
        InvertedIndex.load(tmp_path / "bad.npz")

    def version(arrays):
        meta = json.loads(arrays["__meta__"].tobytes())
        meta["version"] = 99
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        return arrays

    _rewrite(p, tmp_path / "v.npz", version)
    with pytest.raises(IndexFormatError, match="version 99"):
        InvertedIndex.load(tmp_path / "v.npz")
    _rewrite(p, tmp_path / "nometa.npz", lambda a: {k: v for k, v in a.items() if k != "__meta__"})
    with pytest.raises(IndexFormatError, match="no '__meta__' header"):
        InvertedIndex.load(tmp_path / "nometa.npz")


def test_a_flipped_byte_inside_the_zip_is_detected(small_index, tmp_path):
    p = tmp_path / "ix.npz"
    small_index.save(p)
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("body.positions.npy")
    raw = bytearray(p.read_bytes())
    raw[info.header_offset + 30 + len(info.filename) + info.file_size - 1] ^= 0xFF  # last data byte
    (tmp_path / "flipped.npz").write_bytes(bytes(raw))
    with pytest.raises(IndexFormatError):
        InvertedIndex.load(tmp_path / "flipped.npz")


def test_an_index_saved_before_cjk_splitting_keeps_analysing_queries_as_it_was_built(tmp_path):
    """Index files written before ``split_cjk`` existed lack the key: they load with the old tokenization, so a
    query is cut as the documents were (one term per run of ideographs and kana), not as a fresh analyzer would."""
    c = Collection(("z1", "z2", "z3"), {"body": ["東京大学の研究は素晴らしい", "北京大学研究中心", "cafe cat"]})
    old = InvertedIndex.build(c, Analyzer(split_cjk=False))
    assert "東京大学の研究は素晴らしい" in old.vocab
    old.save(tmp_path / "new.npz")

    def drop_setting(arrays):
        meta = json.loads(arrays["__meta__"].tobytes())
        del meta["analyzer"]["split_cjk"]
        return {**arrays, "__meta__": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}

    _rewrite(tmp_path / "new.npz", tmp_path / "old.npz", drop_setting)
    back = InvertedIndex.load(tmp_path / "old.npz")
    assert back.analyzer.split_cjk is False and back.analyzer == old.analyzer
    assert back.query_terms("東京大学の研究は素晴らしい").ids.tolist() == [old.vocab["東京大学の研究は素晴らしい"]]
    fresh = InvertedIndex.build(c, Analyzer())
    fresh.save(tmp_path / "fresh.npz")
    again = InvertedIndex.load(tmp_path / "fresh.npz")
    assert again.analyzer.split_cjk is True
    q = again.query_terms("研究")
    f = again.field("body")
    holders = [set(f.docs[f.indptr[t]:f.indptr[t + 1]].tolist()) for t in q.ids]
    assert q.terms == ("研", "究") and set.intersection(*holders) == {0, 1}


def test_a_file_that_is_not_an_index_is_refused_without_numpys_unpickling_hint(tmp_path):
    """np.load, handed something that is neither .npz nor .npy, tries pickle and refuses with 'If you trust the file
    you can load it unsafely using the allow_pickle= keyword': an invitation an index loader must never pass on."""
    cases = {"docs.idx": b"d1\tcat sat on the mat\nd2\tdog\n", "empty.idx": b"", "array.npy": None,
             "objects.npz": None}
    np.save(tmp_path / "array.npy", np.arange(3))
    np.savez(tmp_path / "objects.npz", a=np.array([{"a": 1}], dtype=object))
    for name, raw in cases.items():
        if raw is not None:
            (tmp_path / name).write_bytes(raw)
        with pytest.raises(IndexFormatError, match="not a readable index file") as e:
            InvertedIndex.load(tmp_path / name)
        assert "pickle" not in str(e.value), str(e.value)
    with pytest.raises(IndexFormatError, match=r"docs.idx: not a readable index file \(not a .npz archive: it "
                                               r"starts with b'd1\\tc'\)"):
        InvertedIndex.load(tmp_path / "docs.idx")
    with pytest.raises(IndexFormatError, match="it is empty"):
        InvertedIndex.load(tmp_path / "empty.idx")
    with pytest.raises(IndexFormatError, match="holds an array of Python objects"):
        InvertedIndex.load(tmp_path / "objects.npz")


def test_loading_an_index_from_a_folder_or_a_device_says_what_it_is(tmp_path):
    """A trial (t45): `--index /dev/null` said 'index file not found' of a path that exists."""
    from features.errors import IndexFormatError
    from features.index import InvertedIndex

    for path, said in ((tmp_path, "is a folder, not an index file"),
                       ("/dev/null", "is not a regular file (a device or a pipe), not an index file"),
                       (tmp_path / "none.npz", "index file not found")):
        with pytest.raises(IndexFormatError, match=re.escape(f"{path}: {said}")):
            InvertedIndex.load(path)


def test_an_index_of_format_1_reads_as_it_was_built_and_a_description_says_how_positions_count(tmp_path):
    # format 1 counted the kept terms only: such a file still loads, with its positions as built, and is saved again
    # as format 1; a positional column of a model described before format 2 differs from a fresh index's
    from features.featureset import FeatureSet, differences

    c = Collection(("d",), {"body": ["the wing of the plane"]})
    old = InvertedIndex.build(c, Analyzer(stemmer=None), positions="terms")
    assert index_postings(old, "body") == {"wing": {0: [0]}, "plane": {0: [1]}}  # Terrier's block positions
    old.save(tmp_path / "old.npz")
    with np.load(tmp_path / "old.npz") as z:
        assert json.loads(z["__meta__"].tobytes())["version"] == 1
    loaded = InvertedIndex.load(tmp_path / "old.npz")
    assert loaded.positions == "terms" and index_postings(loaded, "body") == index_postings(old, "body")
    new = InvertedIndex.build(c, Analyzer(stemmer=None))
    assert new.positions == "tokens"
    for scorer, named in (("sdm", True), ("min_window", True), ("bm25tp", True), ("bm25", False)):
        fs = FeatureSet([{"scorer": scorer, "fields": ["body"]}])
        model = {k: v for k, v in fs.to_dict(loaded).items() if k != "positions"}  # as written before format 2
        said = differences(model, fs.to_dict(new), ("the model", "the index"))
        assert said == ([f"indexed positions: the kept terms counted only (an index of format 1) in the model, every "
                         f"token counted (dropped ones keep their place) in the index ({scorer} reads them)"]
                        if named else [])
        assert differences(model, fs.to_dict(loaded), ("the model", "the index")) == []
    with pytest.raises(ValueError, match="positions must be 'tokens' or 'terms', got 'words'"):
        InvertedIndex.build(c, positions="words")


def test_a_reranker_rebuilds_the_positions_a_models_features_were_computed_on(tmp_path, caplog):
    # a model described before format 2 (no 'positions') is served from an index counting the kept terms, as its
    # training features were computed; a saved format-1 index reused by `ltr features --index` is warned about
    from features.featureset import FeatureSet
    from features.pipeline import load_or_build_index
    from features.serve import _build_index

    c = Collection(("d1", "d2"), {"body": ["design of compilers", "design compilers"]})
    fresh = InvertedIndex.build(c)
    described = FeatureSet([{"scorer": "sdm", "fields": ["body"]}]).to_dict(fresh)
    assert described["positions"] == "tokens" and _build_index(c, described).positions == "tokens"
    old = _build_index(c, {k: v for k, v in described.items() if k != "positions"})
    assert old.positions == "terms" and index_postings(old, "body")["compil"] == {0: [1], 1: [1]}
    old.save(tmp_path / "old.npz")
    with caplog.at_level("WARNING"):
        index, built = load_or_build_index(tmp_path / "old.npz", c, Analyzer())
    assert not built and index.positions == "terms"
    assert "was saved in format 1: its positions count the kept terms only" in caplog.text


def test_an_index_pickled_before_format_2_reads_as_counting_the_terms():
    # its __dict__ has no 'positions' (review: AttributeError when described); it counted the kept terms
    import pickle

    ix = InvertedIndex.build(Collection(("d",), {"body": ["the wing"]}), positions="terms")
    del ix.__dict__["positions"]  # as pickled by the code before it
    old = pickle.loads(pickle.dumps(ix))
    assert old.positions == "terms" and index_postings(old, "body") == {"wing": {0: [0]}}
    from features.featureset import FeatureSet

    assert FeatureSet(["sdm"]).to_dict(old)["positions"] == "terms"
