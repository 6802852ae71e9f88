"""Neural relevance scores as features, behind the ``neural`` extra (sentence-transformers, imported only when a
model is loaded):

- ``neural_file`` (:mod:`.file`): scores computed elsewhere, read from a TREC run or ``qid<TAB>docid<TAB>score``
  file and joined onto the candidates (needs no extra);
- ``biencoder`` (:mod:`.biencoder`): the similarity of query and document embeddings (by default the function the
  model configures: cosine, dot product, or negated euclidean or manhattan distance), FirstP or MaxP, document
  embeddings cached on disk;
- ``crossencoder`` (:mod:`.crossencoder`): a cross-encoder's score of each (query, document) pair, cached on disk.

Models are local folders or installed packages, never downloaded (:mod:`._common`); the caches are plain ``.npy``
files with a JSON header (:mod:`features.embedding_cache`).
"""

from features.scorers.neural import biencoder, crossencoder, file  # noqa: F401  (registration)
from features.scorers.neural._common import ModelScorer, NeuralModelError
from features.scorers.neural.biencoder import BiEncoder
from features.scorers.neural.crossencoder import CrossEncoderScorer
from features.scorers.neural.file import JoinReport, NeuralFile, read_score_table

__all__ = ["BiEncoder", "CrossEncoderScorer", "JoinReport", "ModelScorer", "NeuralFile", "NeuralModelError",
           "read_score_table"]
