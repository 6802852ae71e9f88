"""``biencoder``'s similarity follows the model (trial t64, finding 1): a sentence-transformers model whose
``config_sentence_transformers.json`` sets ``similarity_fn_name`` to "dot", "euclidean" or "manhattan" was scored by
the cosine, silently. The reference is sentence-transformers' own ``model.similarity`` of its own embeddings.

The models are built here: a two-layer BERT with mean pooling (no Normalize module, so the dot product is not the
cosine) over the words of a five-document collection, copied with only ``similarity_fn_name`` changed.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from features.analysis import Analyzer
from features.collections import Collection, Queries
from features.extraction import extract
from features.featureset import FeatureSet, differences
from features.index import InvertedIndex
from features.scorers.neural import NeuralModelError
from ltr._shared import import_neural

pytestmark = pytest.mark.neural

DOCS = Collection(("d1", "d2", "d3", "d4", "d5"),
                  {"body": ["ranking documents by their relevance to a query",
                            "the embedding of a short text",
                            "a query and a document scored together by a cross encoder",
                            "sparse retrieval counts the words of the query in each document",
                            "dense retrieval compares the embedding of the query with each document"]})
QUERIES = Queries(("q1", "q2"), ("dense embedding of a query", "words counted in sparse retrieval"))
CANDIDATES = {"q1": ["d1", "d2", "d3", "d4", "d5"], "q2": ["d5", "d4", "d3"]}


@pytest.fixture(scope="module")
def st():
    return import_neural("sentence_transformers")


@pytest.fixture(scope="module")
def index():
    return InvertedIndex.build(DOCS, Analyzer())


@pytest.fixture(scope="module")
def plain(st, tmp_path_factory):
    """A tiny bi-encoder whose config names no similarity function (scored by the cosine)."""
    transformers = import_neural("transformers")
    torch = import_neural("torch")
    folder = tmp_path_factory.mktemp("be")
    basic = transformers.BasicTokenizer(do_lower_case=True)
    words = {w for t in [*DOCS.fields["body"], *QUERIES.texts] for w in basic.tokenize(t)}
    (folder / "bert").mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]
    (folder / "bert" / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer(str(folder / "bert" / "vocab.txt"), do_lower_case=True)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(str(folder / "bert"))
    tokenizer.save_pretrained(str(folder / "bert"))
    models = import_neural("sentence_transformers.models")
    encoder = models.Transformer(str(folder / "bert"), max_seq_length=64)
    pooling = models.Pooling(encoder.get_word_embedding_dimension(), pooling_mode="mean")
    st.SentenceTransformer(modules=[encoder, pooling], device="cpu").save(str(folder / "be"))
    set_similarity(folder / "be", None)
    return folder / "be"


def set_similarity(folder, name):
    """Set (None: drop) ``similarity_fn_name`` in a model folder's config_sentence_transformers.json."""
    path = folder / "config_sentence_transformers.json"
    config = json.loads(path.read_text())
    config.pop("similarity_fn_name", None)
    if name is not None:
        config["similarity_fn_name"] = name
    path.write_text(json.dumps(config))


@pytest.fixture(scope="module")
def configured(plain, tmp_path_factory):
    """``configured(name)``: a copy of the plain model that differs only in its ``similarity_fn_name``."""
    root = tmp_path_factory.mktemp("configured")

    def make(name: str):
        folder = root / name
        if not folder.exists():
            shutil.copytree(plain, folder)
            set_similarity(folder, name)
        return folder

    return make


def features(index, model, **params) -> np.ndarray:
    return columns(index, [(model, params)])[:, 0]


def columns(index, entries) -> np.ndarray:
    """The feature matrix of one biencoder column per ``(model, params)``, in one feature set."""
    fs = [{"scorer": "biencoder", "model": str(model), "fields": ["body"], "name": f"be{i}", "cache": False, **params}
          for i, (model, params) in enumerate(entries)]
    return extract(index, QUERIES, CANDIDATES, fs, collection=DOCS).X


def sentence_transformers_scores(st, model, similarity=None) -> np.ndarray:
    """``model.similarity`` of each (query, candidate), sentence-transformers' own embeddings in float64 (so that
    the reference does not carry float32's rounding of a dot product of 20), with the function the model
    configures, or ``similarity`` set on the loaded model."""
    m = st.SentenceTransformer(str(model), device="cpu")
    if similarity is not None:
        m.similarity_fn_name = similarity
    text = dict(zip(DOCS.doc_ids, DOCS.fields["body"]))
    out = []
    for qid, q in zip(QUERIES.qids, QUERIES.texts):
        qe = np.asarray(m.encode_query([q]), dtype=np.float64)
        de = np.asarray(m.encode_document([text[d] for d in CANDIDATES[qid]]), dtype=np.float64)
        out.append(m.similarity(qe, de).numpy()[0])
    return np.concatenate(out)


def test_each_model_is_scored_by_its_own_similarity_function_as_sentence_transformers_scores_it(
        st, index, plain, configured):
    """A model that names none is scored by the cosine, as sentence-transformers scores it."""
    models = [plain, *(configured(name) for name in ("dot", "euclidean", "manhattan"))]
    assert [st.SentenceTransformer(str(m), device="cpu").similarity_fn_name for m in models] == \
        ["cosine", "dot", "euclidean", "manhattan"]
    X = columns(index, [(m, {}) for m in models])
    for j, m in enumerate(models):
        np.testing.assert_allclose(X[:, j], sentence_transformers_scores(st, m), rtol=1e-6, atol=1e-6,
                                   err_msg=m.name)
    # the dot product is not the cosine on another scale: the candidates come in another order
    dot, cosine = X[:, 1], sentence_transformers_scores(st, models[1], "cosine")
    assert any(not np.array_equal(np.argsort(dot[s]), np.argsort(cosine[s])) for s in (slice(0, 5), slice(5, 8)))


def test_a_similarity_given_explicitly_wins_over_the_models_own(st, index, configured):
    given = [("dot", "cosine"), ("euclidean", "dot"), ("dot", "manhattan"), ("manhattan", "euclidean")]
    X = columns(index, [(configured(own), {"similarity": similarity}) for own, similarity in given])
    for j, (own, similarity) in enumerate(given):
        np.testing.assert_allclose(X[:, j], sentence_transformers_scores(st, configured(own), similarity),
                                   rtol=1e-6, atol=1e-6, err_msg=f"{own} model, similarity={similarity!r}")


def test_the_similarity_used_is_recorded_in_the_description_and_a_description_is_rebuilt_with_it(configured):
    model = str(configured("dot"))
    described = FeatureSet([{"scorer": "biencoder", "model": model, "cache": False}]).to_dict()
    entry = described["features"][0]
    assert entry["params"] == {"model": model, "cache": False}
    assert entry["effective"]["similarity"] == "dot"
    assert FeatureSet.from_dict(described).to_dict()["features"][0]["effective"]["similarity"] == "dot"
    # a description written when the default was the cosine, whatever the model said: served as it was trained
    old = {**described, "features": [{**entry, "effective": {**entry["effective"], "similarity": "cosine"}}]}
    rebuilt = FeatureSet.from_dict(old).to_dict()
    assert rebuilt["features"][0]["effective"]["similarity"] == "cosine"
    assert differences(old, rebuilt) == []


def test_a_feature_set_computing_another_similarity_than_the_trained_one_is_a_difference_naming_it(configured):
    model = str(configured("dot"))
    trained = FeatureSet([{"scorer": "biencoder", "model": model, "similarity": "cosine", "cache": False}]).to_dict()
    given = FeatureSet([{"scorer": "biencoder", "model": model, "cache": False}]).to_dict()
    assert differences(trained, given, ("the model", "the feature set given")) == [
        "feature 1 (biencoder): similarity 'cosine' in the model, 'dot' in the feature set given "
        "(similarity = \"cosine\" in the entry computes the model's)"]


def test_a_model_configuring_a_function_ltrkit_does_not_compute_is_refused_naming_the_setting(index, configured):
    """sentence-transformers itself ignores such a setting (a MultiVectorEncoder's "maxsim") and scores by the
    cosine: ltrkit says so rather than choose, when the feature set is read."""
    from features.scorers import get_scorer

    model = configured("maxsim")
    with pytest.raises(NeuralModelError, match=r"^biencoder model '.*maxsim': its config_sentence_transformers.json "
                                               r"sets similarity_fn_name 'maxsim', which the biencoder scorer does "
                                               r"not compute; give similarity = one of \('cosine', 'dot', "
                                               r"'euclidean', 'manhattan'\)$"):
        get_scorer("biencoder")(model=str(model), cache=False)
    with pytest.raises(ValueError, match=r"^feature 1 \(be0\): biencoder model .*similarity_fn_name 'maxsim'"):
        features(index, model)
    assert np.isfinite(features(index, model, similarity="cosine")).all()  # the option it names serves it


def test_normalize_is_refused_with_a_distance(configured):
    from features.scorers import get_scorer

    with pytest.raises(ValueError, match="does not take 'normalize' here: it applies to the dot product, and "
                                         "similarity is 'euclidean'"):
        get_scorer("biencoder")(model=str(configured("euclidean")), normalize=True, cache=False)
