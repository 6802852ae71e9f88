"""A ``max_length`` a neural model refuses when it loads is named by its feature-set file and entry, as every other
feature-set error is (trial t67, neural #4: with two entries of one model the user could not tell which)."""

from __future__ import annotations

import pytest

from ltr._shared import import_neural, tiny_bert
from ltr.cli import main

pytestmark = pytest.mark.neural

WORDS = ["query", "document", "dense", "retrieval", "words", "wing", "flutter"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A one-layer BERT of 32 positions, saved as a sentence-transformers bi-encoder (mean pooling)."""
    st = import_neural("sentence_transformers")
    bert = tiny_bert(tmp_path_factory.mktemp("bert"), WORDS)
    models = import_neural("sentence_transformers.sentence_transformer.modules")
    word = models.Transformer(str(bert), max_seq_length=16)
    folder = tmp_path_factory.mktemp("bi") / "model"
    st.SentenceTransformer(modules=[word, models.Pooling(word.get_embedding_dimension())]).save(str(folder))
    return folder


def test_a_max_length_the_model_refuses_names_its_feature_set_entry(tiny, tmp_path, capsys):
    (tmp_path / "docs.tsv").write_text("d1\tdense retrieval words\nd2\twing flutter\nd3\tquery document\n")
    (tmp_path / "q.tsv").write_text("1\tdense retrieval\n2\twing\n")
    fs = tmp_path / "fs.toml"
    fs.write_text(f'[[features]]\nscorer = "bm25"\n\n[[features]]\nscorer = "biencoder"\nname = "short"\n'
                  f'model = "{tiny}"\ncache = false\n\n[[features]]\nscorer = "biencoder"\nname = "long"\n'
                  f'model = "{tiny}"\nmax_length = 100\ncache = false\n')
    (tmp_path / "x.letor").write_text("kept\n")
    code = main(["features", "--collection", str(tmp_path / "docs.tsv"), "--queries", str(tmp_path / "q.tsv"),
                 "--topk", "3", "--features", str(fs), "--out", str(tmp_path / "x.letor"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith(f"ltr features: error: {fs}: feature 3 (long): scorer 'biencoder': max_length 100 exceeds "
                          "the 32 positions of the model at "), err
    assert (tmp_path / "x.letor").read_text() == "kept\n"
