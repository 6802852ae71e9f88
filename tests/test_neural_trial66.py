"""A SPLADE (sentence-transformers' ``SparseEncoder``) or ColBERT (``MultiVectorEncoder``) folder given to the
``biencoder`` scorer (trial t66, hybrid-neural #1): sentence-transformers loads such a folder as a
``SentenceTransformer`` by dropping its own modules for mean pooling on the backbone, so the feature was the cosine
of another model's embeddings, exit 0. The folders are saved here by sentence-transformers itself, from a tiny BERT.
"""

from __future__ import annotations

import pytest

from features.scorers import get_scorer
from features.scorers.neural import NeuralModelError
from ltr._shared import import_neural, tiny_bert

pytestmark = pytest.mark.neural

WORDS = ["query", "document", "sparse", "dense", "retrieval", "words"]


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    """A tiny BERT with a masked-language-model head, saved as transformers saves it."""
    return tiny_bert(tmp_path_factory.mktemp("bert"), WORDS, masked_lm=True)


def test_a_sparse_encoder_is_refused_by_the_biencoder_scorer(bert, tmp_path):
    st = import_neural("sentence_transformers")
    from sentence_transformers.sparse_encoder.modules import MLMTransformer, SpladePooling

    st.SparseEncoder(modules=[MLMTransformer(str(bert)), SpladePooling("max")]).save(str(tmp_path / "splade"))
    with pytest.raises(NeuralModelError, match=r"is a sparse encoder \(sentence-transformers' SparseEncoder: SPLADE "
                                               r"and the like\): the biencoder scorer takes a SentenceTransformer .* "
                                               r"the 'neural_file' scorer$"):
        get_scorer("biencoder")(model=str(tmp_path / "splade"))


def test_a_multi_vector_encoder_is_refused_by_the_biencoder_scorer(bert, tmp_path):
    st = import_neural("sentence_transformers")
    st.MultiVectorEncoder(str(bert)).save(str(tmp_path / "colbert"))
    with pytest.raises(NeuralModelError, match=r"is a multi-vector encoder \(sentence-transformers' "
                                               r"MultiVectorEncoder: ColBERT"):
        get_scorer("biencoder")(model=str(tmp_path / "colbert"))


def test_a_dense_model_of_the_same_backbone_still_loads(bert, tmp_path):
    st = import_neural("sentence_transformers")
    st.SentenceTransformer(str(bert), device="cpu").save(str(tmp_path / "dense"))
    assert get_scorer("biencoder")(model=str(tmp_path / "dense"), cache=False) is not None
