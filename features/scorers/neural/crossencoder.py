r"""Cross-encoder relevance as a feature: a sentence-transformers ``CrossEncoder`` reads the query and the document
together and scores the pair (Nogueira & Cho, 2019).

The feature is ``CrossEncoder.predict`` of the (query text, document text) pair, as the library returns it (for a
one-label model, its default activation: the sigmoid of the logit). The model truncates the pair to its maximum
input length (``max_length``, default the model's own; one beyond the model's positions is refused). A model with
more than one output label (``num_labels`` in its ``config.json``) is refused when it is loaded, before any pair is
scored (a relevance model has one).

Scores are cached on disk (:mod:`features.embedding_cache`) keyed by the model's files, the options that change
scores (the effective maximum length, the sentence-transformers version) and the pair's two texts, so re-extraction
and reranking reuse them and only new or edited pairs are scored. Pairs are scored in batches of ``batch_size``;
progress bars show on a terminal only.

In a feature-set file (``ltr features --features FS.toml``)::

    [[features]]
    scorer = "crossencoder"
    model = "models/my-cross-encoder"   # a folder saved with CrossEncoder.save or save_pretrained
    fields = ["all"]
    name = "ce"                          # the column is then ce:all

The documents' text reaches the scorer through :func:`features.extraction.extract` (``collection=``).

References
----------
R. Nogueira, K. Cho. Passage re-ranking with BERT. arXiv:1901.04085, 2019.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from features.embedding_cache import item_key
from features.pairs import PairSet
from features.scorers._registry import register
from features.scorers.neural._common import (
    ModelScorer,
    NeuralModelError,
    doc_texts,
    document_named,
    progress_bar,
    query_named,
    query_texts,
)

__all__ = ["CrossEncoderScorer"]


@register
class CrossEncoderScorer(ModelScorer):
    """``CrossEncoder.predict`` of each (query, document) pair (module docstring); parameters ``model``
    (required), ``max_length``, ``batch_size``, ``device``, ``cache``, ``cache_dir``."""

    name = "crossencoder"
    kind = "crossencoder"
    defaults = dict(ModelScorer.common)

    def predict(self, pairs: list[tuple[str, str]], *,
                named: Callable[[int], str] | None = None) -> NDArray[np.float32]:
        """``CrossEncoder.predict`` of (query, document) text pairs with this scorer's batch size.

        A model that gives a non-finite score raises :class:`~features.errors.ModelOutputError` naming the first
        such pair (``named(i)`` for ``pairs[i]``: by default its place and texts)."""
        out = np.asarray(self.model().predict(pairs, batch_size=self.params["batch_size"],
                                              show_progress_bar=progress_bar(), convert_to_numpy=True))
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.ndim != 1:
            raise NeuralModelError(f"crossencoder model {self.folder} gives {out.shape[-1]} scores per pair; a "
                                   "relevance cross-encoder has one output label")
        if named is None:
            def named(i: int) -> str:
                return f"pair {i + 1} of {len(pairs)} ({pairs[i][0][:60]!r}, {pairs[i][1][:60]!r})"
        return self.finite(out.astype(np.float32), "score", named)

    def score(self, pairs: PairSet, field: str | None) -> NDArray[np.float64]:
        qtexts = query_texts(pairs, self.name)
        unique, texts = doc_texts(pairs, field, self.name)
        dtext = [texts[i] for i in np.searchsorted(unique, pairs.docs)]
        qtext = [qtexts[i] for i in pairs.pair_query]

        def named(i: int) -> str:  # pair i of the pairs
            return f"{query_named(pairs, int(pairs.pair_query[i]))} and " \
                   f"{document_named(pairs, int(pairs.docs[i]), dtext[i])}"

        store = self.store(self.library_options())
        scores = store.get([item_key(q, d) for q, d in zip(qtext, dtext)],
                           lambda at: self.predict([(qtext[i], dtext[i]) for i in at], named=lambda j: named(at[j])))
        self._used(store.stats)
        return scores.astype(np.float64).reshape(pairs.n_pairs, 1)
