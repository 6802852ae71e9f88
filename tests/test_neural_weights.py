"""A neural model whose checkpoint lacks tensors the model uses is refused when it is loaded, before any text is
scored, in one line that names the kind, the folder, the count and the first tensors (transformers filled them with
random values: every run scored differently, exit 0, and the caches mixed the runs); a model that lacks only what no
score reads (a bi-encoder's pooler) loads, and transformers' LOAD REPORT table never reaches the terminal.

The models are tiny BERTs over a few words, built here (randomly initialised, saved) and then edited: a cross-encoder
folder made from a plain BERT checkpoint (no classification head), a bi-encoder whose safetensors file lost a
tensor of an encoder layer, or only its pooler.
"""

from __future__ import annotations

import json
import logging
import re
import threading

import numpy as np
import pytest

from features.scorers import get_scorer
from features.scorers.neural import NeuralModelError
from ltr._shared import import_neural
from ltr.cli import main

pytestmark = pytest.mark.neural

WORDS = ["aircraft", "computer", "document", "heat", "indexing", "retrieval", "wing"]
TEXTS = ["computer indexing of documents", "heat transfer of a wing", "document retrieval"]


@pytest.fixture(scope="module")
def st():
    return import_neural("sentence_transformers")


def tiny_bert(folder, head: bool):
    """A 2-layer BERT over :data:`WORDS` saved with its tokenizer in ``folder``: a one-label sequence classifier
    (``head``), else the plain ``BertModel``."""
    transformers = import_neural("transformers")
    torch = import_neural("torch")
    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                                     num_labels=1, initializer_range=0.3)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config) if head else transformers.BertModel(config)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def cross_encoder(st, tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("ce") / "complete", head=True)


@pytest.fixture(scope="module")
def bi_encoder(st, tmp_path_factory):
    """A sentence-transformers folder: the tiny BERT and mean pooling."""
    modules = st.sentence_transformer.modules if hasattr(st, "sentence_transformer") else st.models  # (>= 6)
    root = tmp_path_factory.mktemp("be")
    encoder = modules.Transformer(str(tiny_bert(root / "bert", head=False)), max_seq_length=32)
    pooling = modules.Pooling(32, pooling_mode="mean")  # the tiny BERT's hidden size
    st.SentenceTransformer(modules=[encoder, pooling], device="cpu").save(str(root / "complete"))
    return root / "complete"


def edited(source, target, drop=(), add=None):
    """A copy of the model folder ``source`` at ``target`` whose ``model.safetensors`` lacks the tensors named by
    the patterns ``drop`` and holds the tensors ``add`` besides."""
    import shutil

    from safetensors.torch import load_file, save_file

    shutil.copytree(source, target)
    weights = load_file(str(target / "model.safetensors"))
    kept = {k: v for k, v in weights.items() if not any(re.search(p, k) for p in drop)}
    assert len(kept) < len(weights) or not drop, f"nothing matches {drop} in {sorted(weights)}"
    save_file({**kept, **(add or {})}, str(target / "model.safetensors"), metadata={"format": "pt"})
    return target


def plain_bert_cross_encoder(folder):
    """A cross-encoder folder made from a plain BERT checkpoint: its config.json says
    ``BertForSequenceClassification`` with one label, and the weights have no classification head."""
    tiny_bert(folder, head=False)
    config = json.loads((folder / "config.json").read_text())
    config.update(architectures=["BertForSequenceClassification"], id2label={"0": "LABEL_0"},
                  label2id={"LABEL_0": 0})
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture
def said(capfd):
    """``said()``: what the load printed on standard error and what transformers' loggers recorded (a handler on
    its library logger: a report logged anywhere is seen, whichever stream its handler writes to)."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep(logging.DEBUG)
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        yield lambda: capfd.readouterr().err + "\n".join(records)
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def count_calls(st, monkeypatch):
    """The texts each ``CrossEncoder.predict`` and ``SentenceTransformer.encode`` call was given."""
    calls: list[int] = []
    for cls, name in ((st.CrossEncoder, "predict"), (st.SentenceTransformer, "encode")):
        original = getattr(cls, name)

        def counting(self, inputs, *args, _original=original, **kwargs):
            calls.append(len(inputs))
            return _original(self, inputs, *args, **kwargs)

        monkeypatch.setattr(cls, name, counting)
    return calls


def test_a_complete_model_and_one_with_tensors_the_model_does_not_use_load_with_no_report(
        st, cross_encoder, bi_encoder, tmp_path, said):
    """A checkpoint that holds tensors beyond the model's (a pre-training head) loads the model completely:
    transformers printed its 25-line LOAD REPORT of them on every load."""
    torch = import_neural("torch")
    extra = {"cls.predictions.bias": torch.zeros(len(WORDS) + 5)}
    for kind, folder in (("crossencoder", cross_encoder), ("biencoder", bi_encoder)):
        for model in (folder, edited(folder, tmp_path / f"{kind}-extra", add=extra)):
            scorer = get_scorer(kind)(model=str(model), cache=False)
            if kind == "crossencoder":
                got = scorer.predict(list(zip(TEXTS, TEXTS[1:])))
                want = st.CrossEncoder(str(folder), device="cpu").predict(list(zip(TEXTS, TEXTS[1:])))
            else:
                got = scorer.encode(TEXTS)
                want = st.SentenceTransformer(str(folder), device="cpu").encode(TEXTS)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)  # the checkpoint's own weights
            said()  # (the reference loads' output)
            get_scorer(kind)(model=str(model), cache=False).model()
            assert "LOAD REPORT" not in said(), model


def test_a_cross_encoder_made_from_a_plain_bert_checkpoint_is_refused_before_any_pair_is_scored(
        st, tmp_path, said, count_calls):
    folder = plain_bert_cross_encoder(tmp_path / "plain")
    scorer = get_scorer("crossencoder")(model=str(folder), cache=False)
    with pytest.raises(NeuralModelError) as e:
        scorer.predict([("computer indexing", "document retrieval")])
    assert str(e.value) == (
        f"crossencoder model {folder}: its checkpoint lacks 2 of the tensors the model uses ('classifier.bias', "
        "'classifier.weight'), which transformers would fill with random values, so that every run would score "
        "differently; a cross-encoder needs a checkpoint trained for relevance, its classification head included "
        "(one made from a plain BERT checkpoint has none): save a complete one with CrossEncoder(name).save(folder)")
    assert count_calls == []
    assert "LOAD REPORT" not in said()  # the message replaces transformers' table


def test_a_refusal_does_not_depend_on_transformers_logging(st, tmp_path, said):
    """Where the user silenced transformers, the report's log record is not even made: the refusal stands."""
    tlog = import_neural("transformers.utils.logging")
    folder = plain_bert_cross_encoder(tmp_path / "plain")
    level = tlog.get_verbosity()
    tlog.set_verbosity_error()
    try:
        with pytest.raises(NeuralModelError, match=r": its checkpoint lacks 2 of the tensors the model uses "
                                                   r"\('classifier.bias', 'classifier.weight'\)"):
            get_scorer("crossencoder")(model=str(folder), cache=False).model()
    finally:
        tlog.set_verbosity(level)


def test_a_bi_encoder_whose_safetensors_lost_an_encoder_layers_tensor_is_refused_before_any_text_is_encoded(
        bi_encoder, tmp_path, said, count_calls):
    folder = edited(bi_encoder, tmp_path / "damaged", drop=[r"^encoder\.layer\.1\.attention\.self\.query\.weight$"])
    scorer = get_scorer("biencoder")(model=str(folder), cache=False)
    with pytest.raises(NeuralModelError) as e:
        scorer.encode(TEXTS)
    assert str(e.value) == (
        f"biencoder model {folder}: its checkpoint lacks 1 of the tensors the model uses "
        "('encoder.layer.1.attention.self.query.weight'), which transformers would fill with random values, so that "
        "every run would score differently; its weights file may be damaged or cut short: re-save the model with "
        "SentenceTransformer(name).save(folder)")
    assert count_calls == []
    assert "LOAD REPORT" not in said()


def test_many_missing_tensors_are_counted_and_the_first_three_named(bi_encoder, tmp_path):
    folder = edited(bi_encoder, tmp_path / "damaged", drop=[r"^encoder\.layer\.0\."])
    with pytest.raises(NeuralModelError, match=r"^biencoder model .*: its checkpoint lacks 16 of the tensors the "
                                               r"model uses \('encoder\.layer\.0\.[^']*', 'encoder\.layer\.0\.[^']*', "
                                               r"'encoder\.layer\.0\.[^']*' and 13 more\), which"):
        get_scorer("biencoder")(model=str(folder), cache=False).model()


def test_a_checkpoint_of_another_architecture_is_said_so(bi_encoder, tmp_path):
    """Tensors under other names: missing for the model, and held by the checkpoint for no place of the model."""
    from safetensors.torch import load_file, save_file

    folder = edited(bi_encoder, tmp_path / "renamed")
    weights = load_file(str(folder / "model.safetensors"))
    save_file({k.replace("encoder.layer.1.", "encoder.block.1."): v for k, v in weights.items()},
              str(folder / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(NeuralModelError, match=r"lacks 16 of the tensors the model uses \('encoder\.layer\.1\.[^)]* "
                                               r"and 13 more\), which .*; it also holds 16 tensor\(s\) the model has "
                                               r"no place for \('encoder\.block\.1\.[^)]* and 14 more\), as a "
                                               r"checkpoint of another architecture would; its weights file"):
        get_scorer("biencoder")(model=str(folder), cache=False).model()


def test_a_bi_encoder_lacking_only_its_pooler_loads_and_embeds_as_the_complete_model(
        st, bi_encoder, tmp_path, said):
    """Mean pooling reads the token embeddings, never BERT's pooler: its random values change no embedding."""
    folder = edited(bi_encoder, tmp_path / "no-pooler", drop=[r"^pooler\."])
    said()
    got = get_scorer("biencoder")(model=str(folder), cache=False).encode(TEXTS)
    assert "LOAD REPORT" not in said()
    want = get_scorer("biencoder")(model=str(bi_encoder), cache=False).encode(TEXTS)
    np.testing.assert_array_equal(got, want)


def test_a_cross_encoder_lacking_its_pooler_is_refused(cross_encoder, tmp_path):
    """The sequence-classification head reads the pooler's output: nothing is exempt for a cross-encoder."""
    folder = edited(cross_encoder, tmp_path / "no-pooler", drop=[r"\.pooler\."])
    with pytest.raises(NeuralModelError, match=r"lacks 2 of the tensors the model uses \('bert\.pooler\.dense\.bias', "
                                               r"'bert\.pooler\.dense\.weight'\)"):
        get_scorer("crossencoder")(model=str(folder), cache=False).model()


def test_transformers_other_warnings_during_the_load_still_show(bi_encoder, tmp_path, said, monkeypatch):
    """Only the LOAD REPORT is kept off the terminal: a warning that transformers logs during the same load is not."""
    transformers = import_neural("transformers")
    folder = edited(bi_encoder, tmp_path / "no-pooler", drop=[r"^pooler\."])  # a load with a report
    original = transformers.PreTrainedModel.tie_weights

    def tie_weights(self, *args, **kwargs):
        logging.getLogger("transformers.modeling_utils").warning("a warning the user needs")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(transformers.PreTrainedModel, "tie_weights", tie_weights)
    said()
    get_scorer("biencoder")(model=str(folder), cache=False).model()
    text = said()
    assert "a warning the user needs" in text and "LOAD REPORT" not in text


def test_another_threads_load_keeps_its_report(st, bi_encoder, tmp_path, said, monkeypatch):
    """The report is taken from our own load only: a load of the user's in another thread meanwhile keeps it."""
    transformers = import_neural("transformers")
    folder = edited(bi_encoder, tmp_path / "no-pooler", drop=[r"^pooler\."])
    other = tmp_path / "other"
    edited(bi_encoder, other, drop=[r"^pooler\."])
    started, done = threading.Event(), threading.Event()
    original = transformers.PreTrainedModel.tie_weights

    def tie_weights(self, *args, **kwargs):  # our load waits, mid-way, for the user's whole load
        if threading.current_thread() is threading.main_thread() and not started.is_set():
            started.set()
            assert done.wait(120)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(transformers.PreTrainedModel, "tie_weights", tie_weights)

    def users_load():
        started.wait(120)
        transformers.BertModel.from_pretrained(str(other))
        done.set()

    thread = threading.Thread(target=users_load)
    thread.start()
    said()
    get_scorer("biencoder")(model=str(folder), cache=False).model()
    thread.join(120)
    assert done.is_set()
    text = said()
    assert "LOAD REPORT" in text and f"from: {other}" in text and f"from: {folder}" not in text  # the user's


def test_ltr_features_says_the_refusal_in_one_line_and_writes_nothing(shared_file, tmp_path, capfd):
    folder = plain_bert_cross_encoder(tmp_path / "plain")
    fs = tmp_path / "fs.toml"
    fs.write_text(f'[[features]]\nscorer = "crossencoder"\nmodel = "{folder}"\nfields = ["all"]\ncache = false\n')
    capfd.readouterr()
    code = main(["features", "--collection", str(shared_file("adi")), "--topk", "3", "--features", str(fs), "--out",
                 str(tmp_path / "x.letor")])
    err = capfd.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert f"crossencoder model {folder}: its checkpoint lacks 2 of the tensors the model uses" in err, err
    assert not (tmp_path / "x.letor").exists()


def test_a_cross_encoder_with_its_head_but_a_damaged_encoder_is_told_its_file_is_damaged(cross_encoder, tmp_path):
    """It was told it lacked a classification head trained for relevance, which it has (trial t62's hybrid-neural)."""
    folder = edited(cross_encoder, tmp_path / "no-pooler", drop=[r"\.pooler\."])
    with pytest.raises(NeuralModelError) as e:
        get_scorer("crossencoder")(model=str(folder), cache=False).model()
    assert "classification head" not in str(e.value)
    assert str(e.value).endswith("; its weights file may be damaged or cut short: re-save the model with "
                                 "CrossEncoder(name).save(folder)")


def test_a_load_report_of_another_shape_refuses_nothing(st, monkeypatch):
    """A later transformers whose report the check does not understand (here: a list of missing keys that cannot be
    iterated) made the check fail the load in its own words, where it promises to refuse nothing then and let
    transformers report as it always did (review of trial t62)."""
    import types

    from features.scorers.neural import _common

    mu = import_neural("transformers.modeling_utils")

    def stand_in(model, pretrained_model_name_or_path, ignore_mismatched_sizes, loading_info, logger=None):
        return "transformers' own report"

    class Opaque(list):
        def __iter__(self):
            raise TypeError("not iterable here")

    monkeypatch.setattr(mu, "log_state_dict_report", stand_in)
    info = types.SimpleNamespace(missing_keys=Opaque(), unexpected_keys=[], mismatched_keys=[], conversion_errors={})
    with _common._loading_reports() as reports:
        assert mu.log_state_dict_report(None, "folder", False, info) == "transformers' own report"
    assert reports == [] and mu.log_state_dict_report is stand_in
