"""Serving: rerank first-stage candidates with a saved ranker, in process (one query, many, or a whole run).

(Issue #11 calls this ``ltr.serve.Reranker``. It lives in the feature layer because it computes features from text,
and ``ltr``'s library modules never import ``features``; ``from features.serve import Reranker`` is the API.)

:meth:`Reranker.load` reads a model saved by ``ltr train`` once, with the index (or the collection to build it
from), and rebuilds the model's own feature set from its sidecar: a model trained on ``ltr features`` output keeps
the description of its columns (:meth:`features.featureset.FeatureSet.to_dict`: scorers, parameters, analyzer,
fields, column names). The set is checked against the index before any query is served: another analyzer, other
fields, other scorers or parameters, or a column the model was trained on that the set does not compute is refused
with a :class:`FeatureSetMismatchError` naming each difference (:func:`features.featureset.differences`). A model
without that description (trained on another LETOR file, or a plain engine model) needs ``features=`` (a feature-set
file, e.g. the ``FS.toml`` given to ``ltr features --features``), checked against the model's feature names. A model
trained on some columns of ``ltr features`` output (``ltr train --features``, ``ltr cv --features``) keeps the whole
file's description and the ids of its columns (``read_options["features"]``): the whole set is computed, as ``ltr
features`` computed it, and the model scores the recorded columns, as ``ltr predict`` picks them from the file.

Then :meth:`Reranker.rerank` scores one query's candidates: their features (the same :class:`~features.pairs.PairSet`
and scorers as :func:`features.extraction.extract`, cast to float32 as the LETOR file holds them), the model's
input (:meth:`ltr.Ranker.engine_input`: its normaliser), and its scores, by the model's own trees through
:mod:`ltr.trees` (bit for bit the engine's ``predict``, without its per-call cost) or by the linear model's own
``predict``. The scores are therefore those ``ltr features`` + ``ltr predict`` give for the same candidates, bit for
bit (``tests/test_serve.py``; with a neural feature, given the embedding cache ``ltr features`` filled: documents
are read from it, and a query is encoded alone in both). Results are sorted by score, descending; ties keep the
order the candidates were given in (a stable sort), as :func:`ltr.io.run_from_scores` does.

The first-stage score and rank features (``first_stage``) are the ``scores`` given and the position in the list
given (1, 2, ...); :meth:`Reranker.rerank_run` takes them from the run, as ``ltr features --run`` does. A model
that reads the score needs ``scores`` (refused without: 0 in their place scored silently wrong); one that does not
(no split or weight on it) takes 0.

Neural features read the embedding cache ``ltr features`` filled, and never write it: what they compute while
serving (each query's cross-encoder pairs, a document the cache lacks) is held in memory, the most recently used
:data:`features.embedding_cache.SERVE_ITEMS` per cache (with ``cache = false`` too), so that a query's cost does not
grow with the cache and a long-running server's memory is bounded (65,536 vectors: for a 768-dimension bi-encoder,
about 200 MB a feature). (The feature set's neural scorers are switched to this use:
:meth:`features.scorers.neural.ModelScorer.serve`.) ``ltr rerank``, a batch, writes what it computes, once, as
``ltr features`` does (``Reranker.load(..., fill_cache=True)``).

Threads: the index, the feature set and the tree scorer are built once and only read afterwards, so several threads
may call :meth:`rerank` at once. Two things are serialised: feature sets holding a ``biencoder`` or
``crossencoder`` feature (their vector caches are not thread-safe), by a lock of the reranker's, and, when Numba
runs on its ``workqueue`` threading layer (which aborts the process on concurrent parallel calls, whatever their
thread count; the OpenMP and TBB layers do not), every feature computation and every tree scoring on more than one
thread, by one lock of the process: that layer is the process's, so two rerankers (two models served side by side,
or a new one loaded and warmed while the old one serves) take turns. Until a parallel kernel has run, the layer is
not known, and they take turns too. The toolkit's other parallel kernels take the same lock
(:func:`ltr.threads.workqueue_turn`): tree scoring (:meth:`ltr.trees.TreeEnsemble.predict`), training's gradient
kernels and the linear ranker's line search, large evaluations, LETOR reading and writing, BM25 retrieval and
:func:`features.extraction.extract`. A :class:`features.featureset.FeatureSet`'s ``compute`` called directly does
not: on workqueue, call it from one thread.

Example::

    from features.serve import Reranker
    reranker = Reranker.load("model.txt", index="cran.index", collection="../shared/data/cranfield")
    result = reranker.rerank("flutter of swept wings", ["184", "12", "51"], scores=[14.2, 11.0, 9.8])
    result.doc_ids, result.scores      # sorted, best first
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from features.collections import Collection
from features.featureset import FeatureSet, differences
from features.index import InvertedIndex
from features.pairs import PairSet
from ltr.groups import group_ptr_from_sizes
from ltr.io.scores import beyond_float32
from ltr.metrics.trec import whole_float_id
from ltr.threads import numba_threads, workqueue_turn

#: Numba's workqueue threading layer is the process's, and aborts it on concurrent parallel calls: every
#: :class:`Reranker` holds :func:`ltr.threads.workqueue_turn` around its parallel kernels while the layer is (or may
#: be) workqueue (the trees' parallel kernel takes it too).

__all__ = ["FeatureSetMismatchError", "MissingFeatureSetError", "Reranker", "Reranking", "RunReport",
           "UnknownCandidatesError"]

log = logging.getLogger(__name__)

#: Distinct ids a message or report lists before it only counts.
SHOWN_IDS = 5


class FeatureSetMismatchError(ValueError):
    """A model used with other features than it was trained on: the message names each difference."""


class MissingFeatureSetError(ValueError):
    """A model whose sidecar does not say how its features were computed (or says it with a path this machine lacks),
    and no feature set given; ``command_line`` is the message worded for ``ltr rerank``."""

    def __init__(self, message: str, command_line: str | None = None):
        super().__init__(message)
        self.command_line = command_line or message


class UnknownCandidatesError(ValueError):
    """Candidates that the collection lacks, or of queries the topics lack (``on_unknown="error"``); ``doc_ids``
    holds the unknown documents, in order; ``first_row``: the first offending (query id, document id), by which a
    caller that read the run from a file names its line."""

    def __init__(self, message: str, doc_ids: Sequence[str] = (), first_row: tuple[str, str] | None = None):
        super().__init__(message)
        self.doc_ids = tuple(doc_ids)
        self.first_row = first_row


@dataclass(frozen=True)
class Reranking:
    """One query's reranked candidates.

    Attributes
    ----------
    doc_ids : tuple of str
        Best first; ties in score keep the order the candidates were given in.
    scores : ndarray of float64, shape (n,)
        The model's score of each, in the same order (read-only).
    unknown : tuple of str
        Candidates the collection lacks, dropped (``on_unknown="drop"``), in the order given.
    termless : bool
        The query has no term of the collection's vocabulary after analysis (empty, only stopwords, or words no
        document holds): its lexical features are all 0, and the model ranked the candidates by the other columns
        (the first stage's, neural scores) alone, as :attr:`RunReport.termless_queries` says of a run (a service
        could not tell such answers apart: trial t65).
    """

    doc_ids: tuple[str, ...]
    scores: NDArray[np.float64]
    unknown: tuple[str, ...] = ()
    termless: bool = False

    def __post_init__(self) -> None:
        s = np.array(self.scores, dtype=np.float64)  # a copy: the caller's array stays the caller's
        s.flags.writeable = False
        object.__setattr__(self, "scores", s)

    def __len__(self) -> int:
        return len(self.doc_ids)

    def __eq__(self, other: object) -> bool:  # the dataclass's would compare the scores array as a truth value
        if not isinstance(other, Reranking):
            return NotImplemented
        return (self.doc_ids == other.doc_ids and self.unknown == other.unknown and self.termless == other.termless
                and np.array_equal(self.scores, other.scores))

    __hash__ = None  # equal by value, holding an array: not hashable (a dict key would be the ids, not the result)


@dataclass(frozen=True)
class RunReport:
    """What :meth:`Reranker.rerank_run` reranked, and what it left out (each with a count and the first ids).

    Attributes
    ----------
    n_queries, n_rows : int
        Queries and candidates reranked (the rows of the new run).
    unknown_query_rows : int
        Run lines naming a query the queries lack (dropped); ``unknown_queries`` the first such ids.
    unknown_doc_rows : int
        Run lines naming a document the collection lacks (dropped); ``unknown_docs`` the first such ids.
    duplicate_rows : int
        Run lines repeating a (query, document) pair (dropped; the first line is kept); ``first_duplicate`` the
        first pair repeated, as ``(qid, docno)``.
    empty_queries : tuple of str
        Queries of the run left with no candidate (they have no rows in the new run).
    termless_queries : tuple of str
        Queries reranked with no term of the collection's vocabulary after analysis (only stopwords, or words
        no document holds): their lexical features are all 0, so the model ranks their candidates by the other
        columns (the first stage's, neural scores) alone.
    """

    n_queries: int
    n_rows: int
    unknown_query_rows: int = 0
    unknown_queries: tuple[str, ...] = ()
    n_unknown_queries: int = 0
    unknown_doc_rows: int = 0
    unknown_docs: tuple[str, ...] = ()
    n_unknown_docs: int = 0
    duplicate_rows: int = 0
    first_duplicate: tuple[str, str] | None = None
    empty_queries: tuple[str, ...] = field(default=())
    termless_queries: tuple[str, ...] = field(default=())
    #: The run's top first-stage scores against the spread of those of the queries the model was trained on (when
    #: it reads ``first_stage_score`` and its training file recorded them): a sentence when most lie outside it.
    first_stage_scale: str = ""

    def problems(self) -> list[str]:
        """One sentence per thing left out or reranked without its text (empty when none was)."""
        out = []
        if self.unknown_query_rows:
            out.append(f"{self.unknown_query_rows} run line(s) name {self.n_unknown_queries} query id(s) the queries "
                       f"lack (first: {_shown_ids(self.unknown_queries)}): dropped")
        if self.unknown_doc_rows:
            out.append(f"{self.unknown_doc_rows} run line(s) name {self.n_unknown_docs} document(s) the collection "
                       f"lacks (first: {_shown_ids(self.unknown_docs)}): dropped")
        if self.duplicate_rows:
            pair = ""
            if self.first_duplicate is not None:
                q, d = (_shown_ids([i]) for i in self.first_duplicate)
                pair = f" (first: query {q}, document {d})"
            out.append(f"{self.duplicate_rows} run line(s) repeat a (query, document) pair{pair}: dropped, the first "
                       "kept")
        if self.empty_queries:
            shown = _shown_ids(self.empty_queries[:SHOWN_IDS])
            out.append(f"{len(self.empty_queries)} query(ies) have no candidate left (first: {shown}): no rows "
                       "for them")
        if self.termless_queries:
            shown = _shown_ids(self.termless_queries[:SHOWN_IDS])
            out.append(f"{len(self.termless_queries)} query(ies) have no term of the collection's vocabulary after "
                       f"analysis (first: {shown}): their lexical features are 0, ranked by the other columns alone")
        if self.first_stage_scale:
            out.append(self.first_stage_scale)
        return out


def _termless(terms) -> bool:
    """Whether analysed query terms (a :class:`~features.index.QueryTerms`) hold no term of the vocabulary."""
    return not (terms.ids >= 0).any()


def _aligned(scores: pd.Series, ids: Sequence[str], what: str) -> pd.Series:
    """A Series of first-stage scores indexed by the doc ids (``run.set_index('docno')['score']``; a ``(qid,
    docno)`` MultiIndex by its last level) read by them, in any order, as pandas aligns: it was read by position,
    each candidate given another's score (trial t63). One whose text index names some of the doc ids but not each
    once (a misspelt or extra id) is refused, naming the first id that differs. Integer row labels, and a text index
    naming none of them (the query id of every row), are read by position, as the docstring says."""
    index = scores.index.get_level_values(-1) if isinstance(scores.index, pd.MultiIndex) else scores.index
    if not (pd.api.types.is_object_dtype(index) or pd.api.types.is_string_dtype(index)):
        return scores  # integer row labels: positions, whatever numbers the doc ids are
    named = [str(i) for i in index]
    if named == list(ids):
        return scores
    wanted = set(ids)
    if len(set(named)) == len(named) == len(ids) and set(named) == wanted:
        return pd.Series(scores.to_numpy(), index=named).reindex(list(ids))
    if wanted.isdisjoint(named):
        return scores
    stray = next((i for i in named if i not in wanted), None)
    said = (f"names {stray!r}, which doc_ids lack" if stray is not None else
            f"lacks {next(i for i in ids if i not in set(named))!r}" if not wanted <= set(named) else
            "names a doc id twice")
    raise ValueError(f"{what} is a Series indexed by doc ids that are not doc_ids' ({said}): index it by the "
                     "candidates, each once, or give the scores in the order of doc_ids")


def _shown_ids(ids: Sequence[str]) -> str:
    """Ids for a message, comma-separated: as they are, or quoted as Python writes them when they hold whitespace or
    a character that does not show (an id ending in a zero-width or no-break space read as the id without it)."""
    return ", ".join(i if i.isprintable() and not any(c.isspace() for c in i) else repr(i) for i in ids)


def score_spread(run) -> dict[str, float]:
    """The least, median and greatest of each query's top first-stage score in ``run`` (``qid`` and ``score``
    columns): the scale of the first stage whatever its depth (``ltr features`` records them with the feature set;
    :meth:`Reranker.rerank_run` compares a run's with them)."""
    top = _top_scores(run) if len(run) else np.zeros(1)
    return {"min": float(top.min()), "median": float(np.median(top)), "max": float(top.max())}


def _top_scores(run) -> NDArray[np.float64]:
    """Each query's top first-stage score in ``run`` (``qid`` and ``score`` columns)."""
    return run.groupby("qid", sort=False)["score"].max().to_numpy(np.float64)


def _scale_note(trained: Mapping | None, top: NDArray[np.float64], what: str = "the run's queries",
                whose: str = "this run's") -> str:
    """A sentence when most of the queries' top first-stage scores ``top`` lie outside the range of the training
    queries' (a run of another system: cosine scores for a model that learnt BM25's), else ``""``. The top score is
    compared, not every candidate's, so that the same first stage at another depth is no alarm, and with the whole
    range, so that other queries of the same first stage are none either."""
    if not isinstance(trained, Mapping) or not len(top) or not all(k in trained for k in ("min", "max")):
        return ""
    low, high = float(trained["min"]), float(trained["max"])
    outside = float(np.mean((top < low) | (top > high)))
    if outside <= 0.5:
        return ""
    return (f"the top first-stage score of {outside:.0%} of {what} lies outside the range of the "
            f"training queries' ({low:.4g} to {high:.4g}; {whose} median {float(np.median(top)):.4g}): the model "
            "reads first_stage_score, so a run of another first stage (another scorer or scale) is reranked on "
            "values it never saw")


def _id_list(doc_ids, what: str) -> list[str]:
    """Document ids as text (:func:`_id_text`); a single string is refused (iterated, "69" would be the documents 6
    and 9), and so is a set or a mapping: their order, which gives the candidates their first-stage ranks, is not
    the first stage's (a set's is the hashes')."""
    if isinstance(doc_ids, (str, bytes)):
        raise TypeError(f"{what} must be a sequence of document ids, got the string {doc_ids!r}; pass [{doc_ids!r}]")
    if isinstance(doc_ids, (set, frozenset, Mapping)):
        raise TypeError(f"{what} must be a sequence of document ids in first-stage order, got a "
                        f"{type(doc_ids).__name__}, whose order is not the first stage's (it gives the rank feature): "
                        "pass a list")
    return [d if type(d) is str else _id_text(d, what) for d in doc_ids]


def _id_text(value, what: str) -> str:
    """An id that is not a str as the text :func:`ltr.metrics.trec.checked_ids` reads it as, the rule of the whole
    feature layer (:meth:`Reranker.rerank_run`, ``fuse``, ``write_run``): a whole float is its integer (``184.0``
    is '184', where ``str()`` gave '184.0', which no document is: on_unknown='drop' left an empty result; trial
    t62); any other float, and None, are refused, naming ``what``."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, (float, np.floating))
                                                                and value != value) or (
            isinstance(value, (np.datetime64, np.timedelta64)) and np.isnat(value)):
        # (pandas' NA and NaT, of nullable Int64 and datetime columns, were read as the ids '<NA>' and 'NaT')
        raise ValueError(f"{what} holds a missing id ({value}): give every id")
    if isinstance(value, (float, np.floating)):
        text = whole_float_id(value)
        if text is None:
            raise ValueError(f"{what} holds the float {float(value)!r}: ids are compared as text, as trec_eval "
                             "compares them; give ids as strings or integers")
        return text
    return str(value)


def _text(text, what: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a string, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:  # a broken '\ud800' escape: the tokenizers refuse it as "not a str"
        raise ValueError(f"{what} holds a lone UTF-16 surrogate (U+{ord(text[e.start]):04X}) at character {e.start}: "
                         "fix or drop it") from None
    return text


def _query_ids(queries: Mapping, what: str) -> list[str]:
    """The mapping's keys as text (:func:`_id_text`; results are keyed so, as a run's query ids are). Two keys that
    read the same as text (``1`` and ``"1"``) are refused, naming both: one result would silently replace the
    other."""
    if not isinstance(queries, Mapping):
        raise TypeError(f"{what} must be a mapping {{qid: (text, doc_ids[, scores])}}, got {type(queries).__name__}")
    seen: dict[str, object] = {}
    for q in queries:
        key = q if type(q) is str else _id_text(q, what)
        if key in seen:
            raise ValueError(f"{what}: query ids {seen[key]!r} and {q!r} are both {key!r} as text, and results "
                             "are keyed so; give each query a distinct id")
        seen[key] = q
    return list(seen)


def _query_texts(queries, what: str) -> dict[str, str]:
    """``{str(qid): text}`` from a mapping (ids checked by :func:`_query_ids`), a Series indexed by query id, or what
    :func:`features.retrieval.as_queries` reads (:class:`Queries`, ``(qid, text)`` pairs, PyTerrier's and
    ir_datasets' topics frames); an id given twice is refused, naming it (by :class:`Queries`)."""
    if isinstance(queries, pd.Series):
        queries = dict(queries.items())
    if isinstance(queries, Mapping):
        return dict(zip(_query_ids(queries, what), queries.values()))
    if isinstance(queries, (str, bytes)) or not isinstance(queries, (Sequence, pd.DataFrame)) and \
            not hasattr(queries, "items"):
        raise TypeError(f"{what} must be a mapping of query id to text, Queries, (qid, text) pairs or a topics "
                        f"DataFrame (qid, query), got {type(queries).__name__}")
    from features.retrieval import as_queries

    try:
        return dict(as_queries(queries).items())
    except ValueError as e:  # a query id given twice (Queries refuses it), a frame without a text column
        raise ValueError(f"{what}: {e}") from None
    except TypeError as e:  # a text that is not a string (a frame's NaN): named by its query, and by what here
        raise TypeError(f"{what}: {e}") from None


def _first(ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(i) for i in ids))[:SHOWN_IDS]


def _ranks(ids: Sequence[str], scores: NDArray[np.float64] | None, keep) -> NDArray[np.float64]:
    """The candidates' first-stage ranks (1-based, the ``first_stage_rank`` feature and the order feedback
    documents are taken in): the list's order, unless first-stage scores are given that it contradicts (a later
    candidate scoring higher: a DataFrame's rows after a merge or a sort by docno); then they are ranked by score,
    ties in the order given, as :meth:`Reranker.rerank_run` ranks a run without a rank column (PyTerrier's
    ``add_ranks``; :func:`features.extraction.candidates_frame`). The candidates ``keep`` leaves out (unknown,
    dropped) keep their places."""
    ranks = np.arange(1, len(ids) + 1, dtype=np.float64)
    if scores is not None and scores.size > 1 and (scores[1:] > scores[:-1]).any():
        ranks[np.argsort(-scores, kind="stable")] = ranks.copy()
    return ranks if keep is None else ranks[keep]


def _load_model(model):
    """``(ranker, its name in messages)``. A plain engine model's warning is said without its advice on scoring data
    (``read_letor(dtype='float64')``: a reranker computes its features itself; trial t64), at the caller's line."""
    import warnings

    from ltr.rankers import Ranker, load_model
    from ltr.rankers.persist import PlainModelWarning

    if isinstance(model, Ranker):
        if not hasattr(model, "booster_"):
            raise ValueError("model: this Ranker is not fitted: fit it or load a saved model")
        return model, "the model"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(model)
    for w in caught:
        said = w.message
        if isinstance(said, PlainModelWarning) and said.without_data:
            said = PlainModelWarning(said.without_data, said.without_data, said.without_data)
        warnings.warn(said, stacklevel=3)  # (Reranker.load's caller)
    return loaded, f"model {model}"


def _load_collection(collection) -> Collection | None:
    if collection is None or isinstance(collection, Collection):
        return collection
    from features.collections import load_documents, load_test_collection, read_document_folder
    from features.errors import UnknownLayoutError

    p = Path(collection)
    if not p.exists():
        from features.pipeline import collection_not_found

        raise FileNotFoundError(collection_not_found(collection))
    if not p.is_dir():
        return load_documents(p)
    try:
        return load_test_collection(p, judgments=False).docs
    except UnknownLayoutError:
        return read_document_folder(p)  # a folder of document files (TREC's disks, a Pyserini JsonCollection)


def _build_index(docs: Collection, described: Mapping[str, Any] | None) -> InvertedIndex:
    """The index of ``docs`` with the analysis, fields, position gap and positions the model's features were computed
    on."""
    from features.analysis import Analyzer

    if described is None or "analyzer" not in described:
        log.warning("the index is built with the default analysis: neither the model nor the feature set says how "
                    "the training features' index was built; if it was built otherwise (ltr features --analyzer, "
                    "--bm25-preset terrier, --fields), give the index they were computed on")
        return InvertedIndex.build(docs, Analyzer())
    fields = list(described.get("fields") or [])
    aliases = dict(described.get("aliases") or {})
    concatenated = "all" if ("all" in fields or "all" in aliases) else None
    fields = [f for f in fields if f != concatenated] or None
    return InvertedIndex.build(docs, Analyzer.from_dict(described["analyzer"]), fields=fields,
                               all_field=concatenated, position_gap=int(described.get("position_gap", 8)),
                               positions=str(described.get("positions", "terms")))  # none said: before format 2


def _is_model_scorer(name: str) -> bool:
    """Scorers whose state (a vector cache) is not thread-safe, and which run a neural model."""
    from features.scorers import get_scorer
    from features.scorers.neural import BiEncoder, CrossEncoderScorer

    return issubclass(get_scorer(name), (BiEncoder, CrossEncoderScorer))


def _without_column(feature_set: FeatureSet, index: InvertedIndex, column: str,
                    unread: Callable[[str], bool] = lambda name: False) -> tuple[FeatureSet, list[str]] | None:
    """``feature_set`` without the computation of ``column`` (its entry, or that entry's field), the other columns
    in their order, and the columns left out: ``column``, and the others its computation gives when ``unread`` says
    the model reads none of them (a ``neural_file`` teacher's ``_missing`` indicator); None when the column cannot
    be left out (its computation gives a column the model reads)."""
    from dataclasses import replace

    def names(fs: FeatureSet) -> list[str]:
        return [n for _, _, cols in fs.columns(index) for n in cols]

    specs, dropped = [], [column]
    for spec in feature_set.specs:
        parts = FeatureSet([spec]).columns(index)
        hit = [(field, cols) for _, field, cols in parts if column in cols]
        if not hit:
            specs.append(spec)
            continue
        field, cols = hit[0]
        others = [c for c in cols if c != column]
        if not all(unread(c) for c in others):
            return None  # one computation gives this column and another the model reads
        dropped += others
        left = [f for _, f, _ in parts if f != field] if field is not None else []
        if left:  # the entry's other fields stay
            specs.append(replace(spec, fields=tuple(left)))
    reduced = FeatureSet(specs)
    want = [n for n in names(feature_set) if n not in dropped]
    return (reduced, dropped) if specs and names(reduced) == want else None


@dataclass(frozen=True)
class _Unserved:
    """Entries of the model's feature set that :meth:`Reranker.load` does not build, as the model reads none of
    their columns: a distilled student's teacher (its column is blanked), and a neural entry whose columns a model
    trained on a feature subset never takes (or never splits on). Serving then needs neither their models, their
    libraries nor their score files, and pays nothing for them."""

    entries: tuple[int, ...]  # their places among the model's described entries
    columns: tuple[str, ...]  # the columns they give, filled with 0
    label: str  # how messages name them

    def without(self, described: Mapping[str, Any]) -> dict[str, Any]:
        """``described`` without the entries and their columns."""
        out = dict(described)
        out["features"] = [e for i, e in enumerate(described["features"]) if i not in self.entries]
        if "columns" in out:
            out["columns"] = [c for c in out["columns"] if c not in self.columns]
        return out


def _unserved_entries(model, described: Mapping[str, Any], name: str) -> _Unserved | None:
    """The entries of ``model``'s described feature set that serving can leave unbuilt (:class:`_Unserved`): a
    distilled student's teacher, and every neural entry (a bi-encoder, a cross-encoder, a ``neural_file``) none of
    whose columns the model reads; None when there is none, or no recorded columns. An entry's columns are found by
    their names (the entry's ``name``, then ``:field`` or ``_output``; an entry whose name another entry shares is
    kept); :meth:`Reranker._check` verifies that the others give exactly the model's other columns."""
    columns = described.get("columns")
    entries = described.get("features")
    if not isinstance(columns, list) or not isinstance(entries, list):
        return None

    def gives(base: str, column: str) -> bool:
        return column == base or column.startswith((f"{base}:", f"{base}_"))

    bases = {i: str(e.get("name") or e.get("scorer")) for i, e in enumerate(entries) if isinstance(e, Mapping)}

    def owner(column: str) -> int | None:  # the entry of the longest name that gives it ('t_bm25:x' is not t's)
        named = [i for i, b in bases.items() if gives(b, column)]
        return max(named, key=lambda i: len(bases[i])) if named else None

    def unique(i: int) -> bool:
        return sum(1 for b in bases.values() if b == bases[i]) == 1

    owned = [owner(c) for c in columns]
    subset = _recorded_columns(model, name)
    trees: list = []  # read once, for the first candidate entry (a model with none does not read its trees here)

    def reads(j: int) -> bool:
        if not trees:
            trees.append(_trees_of(model))
        return _model_reads(model, trees[0], subset, j)

    teacher = model._teacher_column() if hasattr(model, "_teacher_column") else None
    target = None
    if teacher is not None:
        whole = int(subset[teacher]) if subset is not None else teacher
        target = whole if 0 <= whole < len(columns) else None
    left: list[int] = []
    for i in bases:
        mine = [j for j, o in enumerate(owned) if o == i]
        scorer = str(entries[i].get("scorer"))
        teacher_entry = target is not None and target in mine
        # a neural entry's own columns are NAME, NAME_missing (neural_file) and NAME:FIELD; one whose name another
        # entry's columns also start with (a neural_file 'tf' beside term_stats' tf_sum:body) is kept, as guessed
        own = all(c == bases[i] or c == f"{bases[i]}_missing" or c.startswith(f"{bases[i]}:")
                  for c in (columns[j] for j in mine))
        candidate = teacher_entry or (subset is not None and own
                                      and (scorer == "neural_file" or _is_model_scorer_name(scorer)))
        if (candidate and mine and unique(i)
                and not any(reads(j) for j in mine if j != target)):
            left.append(i)
    if not left:
        return None
    label = "; ".join(f"entry {i + 1}, {bases[i]!r}" for i in left)
    return _Unserved(tuple(left), tuple(c for c, o in zip(columns, owned) if o in left), label)


def _is_model_scorer_name(name: str) -> bool:
    """:func:`_is_model_scorer` for a described entry's scorer name, which may be one this version lacks."""
    try:
        return _is_model_scorer(name)
    except ValueError:
        return False


def _trees_of(model):
    """The model's trees as :mod:`ltr.trees` reads them, None for a linear model."""
    if model.engine not in ("lightgbm", "xgboost"):
        return None
    from ltr import trees

    return trees.from_booster(model.booster_)


def _model_reads(model, trees, subset: NDArray[np.intp] | None, column: int) -> bool:
    """Whether the model's scores depend on the feature column (of the whole feature set: a split on it, a non-zero
    weight); ``subset``: the columns a feature-subset model reads (:func:`_recorded_columns`)."""
    if subset is not None:  # the model's own column of it, if it has one
        mine = np.flatnonzero(subset == column)
        if not mine.size:
            return False
        column = int(mine[0])
    if trees is not None:
        return bool(np.any(np.asarray(trees.feature) == column))
    weights = getattr(model.booster_, "weights", None)
    return weights is None or bool(np.asarray(weights)[column] != 0)


def _recorded_columns(model, name: str) -> NDArray[np.intp] | None:
    """The 0-based columns of the whole feature set that a model trained on a feature subset reads, in its order
    (``ltr train --features`` records their 1-based ids in its sidecar), or None for a model of every column."""
    from ltr.evaluation.selection import recorded_features

    recorded = recorded_features(model, name=name, error=FeatureSetMismatchError)
    if recorded is None:
        return None
    columns = np.asarray(recorded[0], dtype=np.intp) - 1
    columns.setflags(write=False)
    return columns


def _placeholders(names) -> bool:
    """Whether ``names`` are the names LightGBM (``Column_0``, ...) or XGBoost (``f0``, ...) give unnamed columns."""
    names = [str(n) for n in names]
    return any(names == [f"{prefix}{j}" for j in range(len(names))] for prefix in ("Column_", "f"))


def _entries_only(described: Mapping[str, Any]) -> dict[str, Any]:
    return {"format": described.get("format"), "features": described.get("features")}


class Reranker:
    """A ranker with its index, feature set and tree scorer, loaded once, scoring candidate lists.

    Build one with :meth:`load` (the constructor takes objects already loaded and runs the same checks).

    Parameters
    ----------
    model : ltr.Ranker
        Fitted (``ltr.load_model``).
    index : InvertedIndex
    feature_set : FeatureSet
        The features the model was trained on, in its column order.
    collection : Collection, optional
        The documents' text, for features that read it (``biencoder``, ``crossencoder``); the index's documents.
    n_jobs : int, optional
        Numba threads for the feature kernels and the tree scorer (:mod:`ltr.threads`); default 1, the fastest for
        one query's candidates. :meth:`rerank_run` with None lets the toolkit choose for the batch.
    name : str
        How messages name the model.

    Attributes
    ----------
    feature_names : tuple of str
        The columns, in the model's order.
    description : dict
        The feature set's description on this index (:meth:`features.featureset.FeatureSet.to_dict`).
    trees : ltr.trees.TreeEnsemble or None
        The model's trees, scored by :mod:`ltr.trees` (None for a linear model).

    Raises
    ------
    FeatureSetMismatchError
        The model's stored description and the feature set or index disagree, or the model has a column the set
        does not compute (module docstring).
    """

    def __init__(self, model, index: InvertedIndex, feature_set: FeatureSet, *, collection: Collection | None = None,
                 n_jobs: int | None = 1, name: str = "the model", unserved: _Unserved | None = None,
                 fill_cache: bool = False):
        self.model = model
        self.index = index
        self.feature_set = feature_set
        self.collection = collection
        self.n_jobs = n_jobs
        self.name = name
        self._columns = _recorded_columns(model, name)  # a feature-subset model: its columns of the whole set
        self._width = None if self._columns is None else int(model.read_options_["features"]["n_features"])
        self._unserved = unserved
        self.description = self._check()
        self.feature_names = tuple(self.description["columns"])
        self.trees = None
        if model.engine in ("lightgbm", "xgboost"):
            import warnings

            from ltr import trees

            with warnings.catch_warnings():  # score() passes the model's best iteration: the trees' advice to pass
                # n_iter is not the reranker user's to follow (its two warnings for one fact: trial t60)
                warnings.filterwarnings("ignore", message=r".* was early-stopped at round \d+ of \d+: the trees",
                                        category=UserWarning)
                self.trees = trees.from_booster(model.booster_)
        # A distilled student blanks its teacher's column (no tree uses it): the feature is not computed at all, so
        # that a neural teacher costs nothing at query time; the column is filled with 0 (ltr.Ranker blanks it too).
        self._served, self._blank = feature_set, None
        teacher = model._teacher_column() if hasattr(model, "_teacher_column") else None
        if unserved is not None:  # entries never built (load), the teacher's among them: their columns are blank
            teacher = None
            self._blank = sorted(self.feature_names.index(c) for c in unserved.columns)
        if teacher is not None and self._columns is not None:
            teacher = int(self._columns[teacher])
        if teacher is not None:
            left_out = _without_column(feature_set, index, self.feature_names[teacher],
                                       lambda name: not self._reads(self.feature_names.index(name)))
            if left_out is not None:
                reduced, dropped = left_out
                self._served, self._blank = reduced, sorted(self.feature_names.index(c) for c in dropped)
        self._serial = any(_is_model_scorer(s.scorer) for s in self._served.specs)
        if self._serial and not fill_cache:  # the neural caches as serving uses them: read, never written
            from features.scorers.neural import ModelScorer

            for scorer, _, _ in self._served.columns(index):
                if isinstance(scorer, ModelScorer):
                    scorer.serve()
        self._short_said = False  # a candidate list shorter than a feedback feature's fb_docs: said (once)
        self._lock = threading.Lock()
        # A model that reads the first-stage score cannot be served without it: 0 in its place scored silently wrong
        self._needs_scores = "first_stage_score" in self.feature_names and self._reads(
            self.feature_names.index("first_stage_score"))
        index.doc_index(())  # builds the index's id lookup now, not in the first concurrent calls

    def __getstate__(self) -> dict[str, Any]:
        """Pickle (process pools, joblib, Ray) without the lock, which cannot be pickled; :meth:`__setstate__`
        gives the copy a lock of its own."""
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, model, *, index: str | os.PathLike | InvertedIndex | None = None,
             collection: str | os.PathLike | Collection | None = None,
             features: str | os.PathLike | FeatureSet | Sequence | None = None, n_jobs: int | None = 1,
             warm: bool = True, fill_cache: bool = False) -> Reranker:
        """Load a model and what its features need, check that they fit, and warm the kernels.

        Parameters
        ----------
        model : path or ltr.Ranker
            A model saved by ``ltr train`` / :meth:`ltr.Ranker.save` (or a fitted Ranker).
        index : path or InvertedIndex, optional
            A saved index (``ltr features --index``); a path that does not exist yet is built from ``collection``
            with the model's analyzer and fields, and saved there. Default: built from ``collection``, not saved.
        collection : path or Collection, optional
            The documents (a collection folder or a document file of any format ``ltr features`` reads). Needed to
            build the index, and by features that read text; when given with a saved index, the index must hold
            the same documents.
        features : path, list or FeatureSet, optional
            The feature set, for a model whose sidecar has none (it was not trained on ``ltr features`` output); with
            one, it must describe the same features (it may set :data:`features.featureset.RUNTIME_PARAMS` anew: a
            neural model's device or cache folder). A description ``ltr features`` wrote (the JSON of its LETOR
            header's ``feature_set``) also says how the index was built: the index is built with its analyzer and
            fields, and a saved index is checked against them, as against a model's own description.
        n_jobs : int, optional
            Threads (class docstring).
        warm : bool, default=True
            Run the feature kernels and the tree scorer once on a stand-in query, so that the first real query
            does not pay Numba's compile or cache load (neural features are not run), and find Numba's threading
            layer. With False, call :meth:`warm` before serving from several threads.
        fill_cache : bool, default=False
            Neural features write what they compute to their cache folder, as ``ltr features`` does: for a batch
            (``ltr rerank`` passes True; one :meth:`rerank_run` computes its pairs together and writes them once),
            so that the same run reranked again reads them. By default the folder is read and never written, and
            what serving computes is held in memory, bounded (module docstring).

        Raises
        ------
        MissingFeatureSetError
            The model has no stored feature set and ``features`` is not given.
        FeatureSetMismatchError
            The index or ``features`` differ from the model's (each difference named).
        ValueError
            Neither ``index`` nor ``collection``; an index of other documents than the collection.
        """
        ranker, name = _load_model(model)
        described = getattr(ranker, "feature_set_", None)
        subset = (getattr(ranker, "read_options_", None) or {}).get("features")  # ltr train --features' record
        if described is None and features is None and isinstance(subset, dict):
            ids = list(subset.get("ids", []))
            shown = ",".join(map(str, ids[:10])) + (",..." if len(ids) > 10 else "")
            why = (f"{name} was trained on a subset of its data's columns (ltr train --features: ids {shown}): a "
                   "reranker computes a whole feature set, and the sidecar does not say which (the data was not "
                   "`ltr features` output, or the model was trained before subsets kept its description): give the "
                   "feature set of the file the ids refer to")
            raise MissingFeatureSetError(f"{why} (features=), or retrain", f"{why} (--features), or retrain")
        if described is None and features is None:
            where = ("has no ltrkit sidecar, so no feature set" if getattr(ranker, "plain_model_", False)
                     else "has no feature set in its sidecar")
            why = (f"{name} {where}: it was not trained on `ltr features` output (a LETOR file whose header "
                   "describes how its columns were computed); give the feature set it was trained with explicitly: ")
            default = " ('default' for ltr features' default set)"
            raise MissingFeatureSetError(f"{why}Reranker.load(..., features='FS.toml'){default}",
                                         f"{why}--features FS.toml{default}")
        unserved = None
        if features is not None:
            fs = None
            if described is not None and isinstance(features, (str, os.PathLike)):
                unserved = _unserved_entries(ranker, described, name)  # left out of the file given too
                if unserved is not None:
                    fs = FeatureSet.load_without(features, [described["features"][i] for i in unserved.entries])
                    if fs is None:  # a file without them (only the entries the model reads) serves it as well
                        fs = FeatureSet.load(features)
                        if differences(_entries_only(unserved.without(described)), _entries_only(fs.to_dict()),
                                       ("the model", "the feature set given")):
                            unserved = None  # compared whole below
            if fs is None:
                fs = FeatureSet.load(features)
        else:
            # a distilled student reads none of its teacher's columns, a feature-subset model none of the neural
            # columns left out: they are not built (their models, library or score files may be absent where the
            # model serves, and they would cost the most of every query)
            unserved = _unserved_entries(ranker, described, name)
            try:
                fs = FeatureSet.from_dict(unserved.without(described) if unserved is not None else described)
            except ValueError as e:  # a neural_file path relative to where ltr features ran, a model folder moved
                paths = " (a relative path is read from the working folder)" if "path" in str(e) else ""
                why = (f"the feature set in {name}'s sidecar cannot be rebuilt here: {e}{paths}; give the feature set "
                       "as seen from here: ")
                raise MissingFeatureSetError(f"{why}Reranker.load(..., features='FS.toml')",
                                             f"{why}--features FS.toml") from None
        if features is not None and described is not None:
            mine = unserved.without(described) if unserved is not None else described
            diff = differences(_entries_only(mine), _entries_only(fs.to_dict()), ("the model", "the feature set given"))
            if diff:
                have = fs.to_dict()
                sizes = [(f"{len(d['columns'])} columns from " if d.get("columns") else "")
                         + f"{len(d.get('features') or [])} entries in {who}"
                         for d, who in ((described, "the model"), (have, "the feature set given"))]
                shown = "; ".join(diff[:5]) + (f"; and {len(diff) - 5} more differences" if len(diff) > 5 else "")
                raise FeatureSetMismatchError(f"{name} was trained on other features than the feature set given "
                                              f"({', '.join(sizes)}): {shown}")
        if described is None and (fs.recorded or {}).get("analyzer") is not None:
            # a description file `ltr features` wrote, given for a model without one: it says how its index was built
            described = fs.recorded
        docs = _load_collection(collection)
        ix = cls._index(index, docs, described)
        reranker = cls(ranker, ix, fs, collection=docs, n_jobs=n_jobs, name=name, unserved=unserved,
                       fill_cache=fill_cache)
        if warm:
            reranker.warm()
        return reranker

    @staticmethod
    def _index(index, docs: Collection | None, described) -> InvertedIndex:
        if isinstance(index, InvertedIndex):
            ix = index
        elif index is not None and Path(index).exists():
            if Path(index).is_dir():
                raise IsADirectoryError(21, "is a folder, not an index file", str(index))
            ix = InvertedIndex.load(index)
        else:
            if docs is None:
                raise ValueError("index: give a saved index, or the collection to build it from (collection=)"
                                 if index is None else f"index {index} does not exist: give the collection to build "
                                                       "it from (collection=)")
            ix = _build_index(docs, described)
            if index is not None:
                ix.save(index)
            return ix
        problem = None if docs is None else ix.mismatch(docs)
        if problem:
            where = "the index given" if isinstance(index, InvertedIndex) else f"index {index}"
            raise ValueError(f"{where} {problem}; rebuild it from the collection, or give the collection it was "
                             "built from")
        return ix

    def _check(self) -> dict[str, Any]:
        """The feature set's description against this index, compared with the model's; returns it."""
        model, name = self.model, self.name
        try:
            have = self.feature_set.to_dict(self.index)
        except ValueError as e:  # a field the index lacks, named by FeatureSet.columns
            raise FeatureSetMismatchError(f"{name}: its feature set does not fit this index: {e}") from None
        described, who = getattr(model, "feature_set_", None), name
        recorded = getattr(self.feature_set, "recorded", None)  # (a set pickled before it kept one has none)
        if described is None and recorded is not None and "analyzer" in recorded:
            # a description `ltr features` wrote, given as the feature set of a model without one (load)
            described, who = recorded, f"{name} (its features as {self.feature_set.source or 'described'})"
        if self._unserved is not None:  # the set lacks the unread entries: compared without them, then their columns
            served = [c for c in described.get("columns", []) if c not in self._unserved.columns]
            if have["columns"] != served:  # (a name's guess that did not hold: said as a mismatch)
                raise FeatureSetMismatchError(
                    f"{name}: without the entries it does not read ({self._unserved.label}) the feature set computes "
                    f"{len(have['columns'])} columns where the model's others are {len(served)}: give the feature "
                    "set the model was trained with")
            described = self._unserved.without(described)
        if described is not None:  # everything but runtime parameters (a neural model's device, cache folder)
            diff = differences(described, have, ("the model", "this index and feature set"))
            if diff:
                raise FeatureSetMismatchError(
                    f"{who} was trained on features computed otherwise than this index and feature set give: "
                    + "; ".join(diff) + " (use the index, analysis options and models the training features were "
                    "made with)")
        if self._unserved is not None:  # the model's columns, the unread entries' among them (filled with 0)
            have = {**have, "columns": list(model.feature_set_["columns"])}
        columns = have["columns"]
        names = getattr(model, "feature_names_in_", None)
        if names is not None and _placeholders(names):
            names = None  # an engine's own names for unnamed columns (a plain model's): only the count is known
        if self._columns is not None:  # a feature-subset model: the whole set, of which it reads the recorded ids
            if len(columns) != self._width:
                raise FeatureSetMismatchError(
                    f"{name} was trained on {model.n_features_in_} of the {self._width} columns of its data "
                    f"(ltr train --features), but the feature set computes {len(columns)} on this index: give the "
                    "feature set of the file the ids refer to")
            if names is not None:
                picked = [columns[c] for c in self._columns]
                if [str(n) for n in names] != picked:
                    j = next(j for j, (a, b) in enumerate(zip(names, picked)) if str(a) != b)
                    raise FeatureSetMismatchError(
                        f"{name}: its feature {j + 1}, {str(names[j])!r}, is column {int(self._columns[j]) + 1} of "
                        f"its data (ltr train --features), which the feature set computes as {picked[j]!r}")
            return have
        if names is not None:
            missing = [(j, str(n)) for j, n in enumerate(names) if str(n) not in set(columns)]
            if missing:
                shown = ", ".join(f"{n!r} (column {j + 1})" for j, n in missing[:SHOWN_IDS])
                raise FeatureSetMismatchError(
                    f"{name} has {len(missing)} feature(s) that the feature set does not compute: {shown}; the set "
                    f"computes {len(columns)} columns (first: {columns[:3]}): give the feature set the model was "
                    "trained with")
            if [str(n) for n in names] != list(columns):
                diff = differences({"columns": [str(n) for n in names]}, {"columns": columns},
                                   ("the model", "the feature set"))
                raise FeatureSetMismatchError(f"{name}: its features and the feature set's columns differ: "
                                              + "; ".join(diff))
        elif model.n_features_in_ != len(columns):
            raise FeatureSetMismatchError(f"{name} takes {model.n_features_in_} features but the feature set "
                                          f"computes {len(columns)} on this index")
        return have

    def warm(self) -> None:
        """Run the classical feature kernels and the tree scorer once on a stand-in query (neural features are not
        run: they would add the stand-in to their caches)."""
        if self.index.n_docs == 0:
            return

        specs = [s for s in self._served.specs if not _is_model_scorer(s.scorer) and s.scorer != "neural_file"]
        text = self.index.terms[0] if self.index.n_terms else ""
        if specs:
            pairs = self._pairs([text], [np.zeros(1, dtype=np.int32)], None, None, None)
            with workqueue_turn(), numba_threads(self.n_jobs):  # beside another reranker serving
                FeatureSet(specs).compute(pairs)
        self.score(np.zeros((1, len(self.feature_names)), dtype=np.float32))

    @property
    def subset(self) -> tuple[int, ...] | None:
        """For a model trained on a feature subset (``ltr train --features``): the 1-based ids of the columns of
        :attr:`feature_names` it reads, in its order (:meth:`score` picks them); None for a model of every column."""
        return None if self._columns is None else tuple(int(c) + 1 for c in self._columns)

    @property
    def not_computed(self) -> list[str]:
        """The columns of :attr:`feature_names` whose features are never computed, each 0 in the model's input: a
        distilled student's teacher (and what its entry makes besides, which the model does not read either)."""
        return [self.feature_names[j] for j in (self._blank or [])]

    def _reads(self, column: int) -> bool:
        """Whether the model's scores depend on the feature column (of :attr:`feature_names`: a split on it, a
        non-zero weight)."""
        return _model_reads(self.model, self.trees, self._columns, column)

    # -- the steps -----------------------------------------------------------------------------------------------------
    def _pairs(self, texts: Sequence[str], docs: Sequence[NDArray[np.int32]], scores, ranks, qids) -> PairSet:
        sizes = np.array([d.shape[0] for d in docs], dtype=np.int64)
        flat = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32)
        if ranks is None:  # the position in the list given
            ranks = np.arange(flat.shape[0], dtype=np.float64) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1
        return PairSet(self.index, [self.index.query_terms(t) for t in texts], group_ptr_from_sizes(sizes), flat,
                       first_stage_score=np.zeros(flat.shape[0]) if scores is None else scores,
                       first_stage_rank=ranks, qids=qids, query_texts=list(texts), collection=self.collection,
                       some_queries=True)

    def _compute(self, pairs: PairSet) -> NDArray[np.float32]:
        with self._lock if self._serial else contextlib.nullcontext(), workqueue_turn(), numba_threads(self.n_jobs):
            X, _, _ = self._served.compute(pairs)
        if self._blank is not None:  # each left-out column back in its place (positions in the array as it is)
            X = np.insert(X, [c - k for k, c in enumerate(self._blank)], 0.0, axis=1)
        return X.astype(np.float32)  # as extract() returns them and the LETOR file holds them

    def _doc_index(self, doc_ids: Sequence[str], on_unknown: str, what: str) -> tuple[NDArray[np.int32], tuple]:
        if on_unknown not in ("error", "drop", "warn"):  # rerank_run's and ltr rerank's 'warn' too (trial t56)
            raise ValueError(f"on_unknown must be 'error', 'warn' or 'drop', got {on_unknown!r}")
        ids = [str(d) for d in doc_ids]
        docs = self.index.doc_index(ids)
        bad = docs < 0
        unknown = ()
        if bad.any():
            unknown = tuple(ids[i] for i in np.flatnonzero(bad))
            if on_unknown == "error":
                raise UnknownCandidatesError(  # ids quoted: '51 ' is not 51, and a Python caller may pass either
                    f"{what}: {len(unknown)} of the {len(ids)} candidate documents "
                    f"{'is' if len(unknown) == 1 else 'are'} not in the collection "
                    f"(first: {', '.join(map(repr, _first(unknown)))}); pass on_unknown='drop' to rerank the others",
                    unknown)
            if on_unknown == "warn":
                log.warning("%s: %d of the %d candidate documents %s not in the collection, dropped (first: %s)",
                            what, len(unknown), len(ids), "is" if len(unknown) == 1 else "are",
                            ", ".join(map(repr, _first(unknown))))
            docs = docs[~bad]
        if np.unique(docs).shape[0] != docs.shape[0]:
            seen: set[int] = set()
            dup = next(self.index.doc_ids[d] for d in docs.tolist() if d in seen or seen.add(d))
            raise ValueError(f"{what}: document {dup!r} is a candidate twice; give each candidate once")
        return docs, unknown

    def features(self, query_text: str, doc_ids: Sequence[str], *, scores: ArrayLike | None = None,
                 qid: str | None = None) -> NDArray[np.float32]:
        """The model's features of one query's candidates, float32, one row per candidate in the order given
        (columns :attr:`feature_names`). Every candidate must be in the collection."""
        ids = _id_list(doc_ids, "doc_ids")
        docs, _ = self._doc_index(ids, "error", "doc_ids")
        s = self._first_stage(scores, ids, len(docs))
        if docs.shape[0] == 0:  # as rerank() gives an empty result (a group of size 0 was an internal error)
            return np.zeros((0, len(self.feature_names)), dtype=np.float32)
        return self._compute(self._pairs([query_text], [docs], s, _ranks(ids, s, None),
                                         None if qid is None else [_id_text(qid, "qid")]))

    def score(self, X: ArrayLike, *, group: ArrayLike | None = None) -> NDArray[np.float64]:
        """The model's scores of feature rows (one query's, or queries of ``group`` sizes): its normaliser, then
        its trees (:mod:`ltr.trees`) or the linear model's ``predict``.

        The rows are those :meth:`features` gives, the columns :attr:`feature_names` in their order (a feature-subset
        model takes the columns it reads, :attr:`subset`, too); a DataFrame's column names are checked against them,
        as ``ltr.load_model(...).predict`` checks a frame's: another width, or a frame of other or reordered names,
        is a ValueError (it was scored by position: trial t60)."""
        X = self._checked_rows(X)
        if X.ndim == 2 and X.shape[0] == 0 and group is None:  # no row, no score (as features() of no candidate)
            return np.zeros(0, dtype=np.float64)
        if self._columns is not None and X.shape[1] == len(self.feature_names):  # the whole set: the model's columns
            X = X[:, self._columns]
        sizes = [X.shape[0]] if group is None else group
        Xe = self.model.engine_input(X, group=sizes)
        if self.trees is None:
            return np.asarray(self.model.booster_.predict(Xe), dtype=np.float64)
        # (on Numba's workqueue layer the trees' parallel kernel takes the process's turn itself: TreeEnsemble.predict)
        return self.trees.predict(Xe, n_iter=self.model.best_iteration_, n_jobs=self.n_jobs)

    def _checked_rows(self, X) -> NDArray:
        """``X`` as an array once its width (and a frame's column names) are those :meth:`score` takes: a frame's
        names read as the model's other scorers read them (:mod:`ltr.frames`: pandas', a pyarrow Table's, a polars
        DataFrame's)."""
        from ltr.frames import as_pandas, frame_names

        X = as_pandas(X)
        columns = getattr(X, "columns", None) if hasattr(X, "iloc") else None  # a pandas DataFrame's
        names = frame_names(X)
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_rows, n_features), got shape {X.shape}")
        whole = list(self.feature_names)
        own = None if self._columns is None else [whole[c] for c in self._columns]
        expected = whole if X.shape[1] == len(whole) else own if own is not None and X.shape[1] == len(own) else None
        if expected is None:
            also = f", or of the {len(own)} the model reads (subset)" if own is not None else ""
            raise ValueError(f"X has {X.shape[1]} columns; {self.name} scores rows of the {len(whole)} columns of its "
                             f"feature set (feature_names, as features() gives them){also}")
        if columns is not None and getattr(columns, "nlevels", 1) > 1:
            raise ValueError(f"X's columns have {columns.nlevels} levels ({columns[0]!r}, ...): give a frame whose "
                             "columns are the feature names (reranker.feature_names), or an array")
        if names is not None and names != expected:
            j = next((i for i, (a, b) in enumerate(zip(names, expected)) if a != b), 0)
            how = ("reorder them: X[list(reranker.feature_names)]" if sorted(names) == sorted(expected) else
                   "give the feature set's columns")
            raise ValueError(f"X's columns are not {self.name}'s features in their order (column {j} counting from 0: "
                             f"{names[j]!r}, the feature set's {expected[j]!r}); {how}")
        return X

    def _first_stage(self, scores, ids: Sequence[str], n: int, keep=None, what: str = "scores"
                     ) -> NDArray[np.float64] | None:
        n_given = len(ids)
        if scores is None:
            if self._needs_scores and n:
                raise ValueError(f"{what}: the model reads first_stage_score, the first stage's score of each "
                                 "candidate: pass them (scores=, in the order of doc_ids; rerank_run takes them from "
                                 "a run); 0 in their place would score the candidates wrongly")
            return None
        if isinstance(scores, pd.Series):
            scores = _aligned(scores, ids, what)
        try:
            s = np.asarray(scores, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be numbers, one per candidate, got {scores!r:.80}") from None
        if s.shape != (n_given,):
            raise ValueError(f"{what} has shape {s.shape}; give one first-stage score per candidate ({n_given})")
        if not np.isfinite(s).all():
            i = int(np.flatnonzero(~np.isfinite(s))[0])
            raise ValueError(f"{what}[{i}] is {s[i]} (document {ids[i]!r}): first-stage scores must be finite")
        if "first_stage_score" in self.feature_names:  # named here, where the features' scorer can only count
            over = beyond_float32(s)  # the queries ('query 1 (in order)' read as a query id)
            if over.size:
                i = int(over[0])
                raise ValueError(f"{what}[{i}] is {float(s[i])!r} (document {ids[i]!r}): beyond float32's range, "
                                 f"in which the first_stage_score feature holds it ({over.size} such score(s)): scale "
                                 "the scores")
        return s if keep is None else s[keep]

    # -- reranking -----------------------------------------------------------------------------------------------------
    def rerank(self, query_text: str, doc_ids: Sequence[str], *, scores: ArrayLike | None = None,
               qid: str | None = None, on_unknown: str = "error") -> Reranking:
        """Rerank one query's candidates.

        Parameters
        ----------
        query_text : str
        doc_ids : sequence of str
            The candidates, in first-stage order (their rank feature is the position in this list; a dropped
            unknown candidate keeps its place, as ``ltr features --run`` keeps a run's ranks).
        scores : array-like of float, optional
            Their first-stage scores (the ``first_stage_score`` feature): needed when the model reads it, else 0.
            In the order of ``doc_ids``; a Series indexed by the doc ids (or a ``(qid, docno)`` MultiIndex) is read
            by them, in any order. A list that they contradict (a later candidate scoring higher: rows of a
            DataFrame after a merge) is ranked by them, ties in the order given, as :meth:`rerank_run` ranks a run
            without a rank column. One query's scores are not judged against the scale of the training queries'
            (:meth:`rerank_many` and :meth:`rerank_run` warn when most queries' top scores lie outside their range:
            another first stage).
        qid : str, optional
            The query id, for features that look scores up by it (``neural_file``).
        on_unknown : {"error", "warn", "drop"}
            Candidates the collection lacks: an :class:`UnknownCandidatesError` naming them, or dropped (listed in
            the result's ``unknown``) with a warning on the ``features.serve`` logger ("warn", as :meth:`rerank_run`'s
            default) or without ("drop").

        Returns
        -------
        Reranking
            Doc ids and scores, best first (ties: the order given). No candidate: an empty result.

        Examples
        --------
        >>> r = reranker.rerank("flutter of wings", ["184", "12", "51"], scores=[14.2, 11.0, 9.8])  # doctest: +SKIP
        >>> list(zip(r.doc_ids, r.scores))                                  # doctest: +SKIP
        """
        _text(query_text, "query_text")
        ids = _id_list(doc_ids, "doc_ids")
        docs, unknown = self._doc_index(ids, on_unknown, "doc_ids")
        keep = None if not unknown else self.index.doc_index(ids) >= 0
        given = self._first_stage(scores, ids, len(docs))
        if docs.shape[0] == 0:
            return Reranking((), np.zeros(0), unknown)
        self._short_lists(docs.shape[0])
        s = given if keep is None or given is None else given[keep]
        pairs = self._pairs([query_text], [docs], s, _ranks(ids, given, keep),
                            None if qid is None else [_id_text(qid, "qid")])
        return self._sorted(self.index.doc_ids[docs], self.score(self._compute(pairs)), unknown,
                            _termless(pairs.queries[0]))

    @staticmethod
    def _sorted(doc_ids, scores: NDArray[np.float64], unknown: tuple, termless: bool) -> Reranking:
        order = np.argsort(-scores, kind="stable")  # descending; ties keep the order given
        return Reranking(tuple(str(d) for d in np.asarray(doc_ids)[order]), scores[order], unknown, termless)

    def rerank_many(self, queries: Mapping[str, tuple], *, on_unknown: str = "error") -> dict[str, Reranking]:
        """Rerank several queries in one pass: ``{qid: (text, doc_ids)}`` or ``{qid: (text, doc_ids, scores)}``
        -> ``{qid: Reranking}``, the same as :meth:`rerank` of each (an empty candidate list gives an empty
        result, and a warning counts such queries). Results are keyed by the query id as text, read as a run's ids
        are (``1.0`` as '1'): ids that collide so (``1`` and ``"1"``) are refused, naming both."""
        keys = _query_ids(queries, "queries")
        qids, texts, docs, firsts, ranks, unknowns = [], [], [], [], [], {}
        have_scores = False
        for key, (q, item) in zip(keys, queries.items()):
            if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
                raise ValueError(f"queries[{q!r}] must be (text, doc_ids) or (text, doc_ids, scores)")
            text, ids = _text(item[0], f"queries[{q!r}] text"), _id_list(item[1], f"queries[{q!r}] doc_ids")
            d, unknown = self._doc_index(ids, on_unknown, f"query {q!r}")
            keep = None if not unknown else self.index.doc_index(ids) >= 0
            given = self._first_stage(item[2] if len(item) == 3 else None, ids, len(d), None,
                                      f"queries[{q!r}] scores")
            s = given if keep is None or given is None else given[keep]
            have_scores = have_scores or s is not None
            unknowns[key] = unknown
            qids.append(key)
            texts.append(text)
            docs.append(d)
            firsts.append(s if s is not None else np.zeros(len(d)))
            ranks.append(_ranks(ids, given, keep))
        empty = [q for q, d in zip(qids, docs) if d.shape[0] == 0]
        if empty:
            log.warning("%d query(ies) have no candidate (first: %s): no result rows for them", len(empty),
                        ", ".join(_first(empty)))
        out = {q: Reranking((), np.zeros(0), unknowns[q]) for q in empty}
        live = [i for i, d in enumerate(docs) if d.shape[0]]
        if live:
            self._short_lists(min(docs[i].shape[0] for i in live))
            pairs = self._pairs([texts[i] for i in live], [docs[i] for i in live],
                                np.concatenate([firsts[i] for i in live]) if have_scores else None,
                                np.concatenate([ranks[i] for i in live]), [qids[i] for i in live])
            sizes = [docs[i].shape[0] for i in live]
            scores = self.score(self._compute(pairs), group=sizes)
            start = np.concatenate([[0], np.cumsum(sizes)])
            for k, i in enumerate(live):
                out[qids[i]] = self._sorted(self.index.doc_ids[docs[i]], scores[start[k]:start[k + 1]],
                                            unknowns[qids[i]], _termless(pairs.queries[k]))
            if self._needs_scores and have_scores:  # as rerank_run's report says it; rerank() has one query only
                described = getattr(self.model, "feature_set_", None) or {}
                note = _scale_note(described.get("first_stage_top_scores"),
                                   np.array([firsts[i].max() for i in live]), "the queries given", "the given queries'")
                if note:
                    log.warning(note)
        return {q: out[q] for q in qids}

    def rerank_run(self, run: pd.DataFrame, queries: Mapping[str, str], *, depth: int | None = None,
                   on_unknown: str = "warn", tag: str = "ltrkit") -> tuple[pd.DataFrame, RunReport]:
        """Rerank every query of a first-stage run (``ltr rerank``).

        Candidates are taken as ``ltr features --run`` takes them: run lines naming a query ``queries`` lacks are
        dropped, then repeated (query, document) lines (the first kept), then each query's candidates are ordered
        by the run's scores in trec_eval's order (score, then docno descending; the rank column only breaks ties
        where it agrees with the scores: :func:`features.extraction.first_stage_ranks`) and, with ``depth``, cut to
        the first ``depth``; candidates the collection lacks are dropped after that cut (a query keeps fewer than
        ``depth``). The run's score and that rank are the first-stage features. Queries come in the order of
        ``queries``.

        Parameters
        ----------
        run : DataFrame
            ``qid``, ``docno``, ``rank``, ``score`` (:func:`ltr.io.read_run`).
        queries : mapping of str -> str, Queries, DataFrame or Series
            Query id -> text; ids are matched to the run's as text (``1.0`` as '1', as the run's are read), so two
            that read the same (``1`` and ``"1"``) are refused, naming both. Also PyTerrier's topics frame (``qid``,
            ``query``), ir_datasets' (``query_id``, ``text``), a :class:`~features.collections.Queries` or a Series
            indexed by query id.
        depth : int, optional
            Rerank each query's first ``depth`` candidates (all by default); the new run holds those only.
        on_unknown : {"warn", "drop", "error"}
            Lines naming unknown queries or documents: dropped, counted in the report and said in a warning of
            the ``features.serve`` logger (with the repeated lines and the queries left without a candidate);
            dropped and counted in the report only (``"drop"``, as :meth:`rerank` spells it); or a ValueError
            naming them.
        tag : str
            The new run's tag.

        Returns
        -------
        (DataFrame, RunReport)
            The new run (``qid``, ``q0``, ``docno``, ``rank``, ``score``, ``tag``; best first within a query, ties
            in the candidates' order), and what was reranked and left out.
        """
        from features.extraction import candidates_frame
        from ltr.io import run_from_scores

        if on_unknown not in ("warn", "drop", "error"):
            raise ValueError(f"on_unknown must be 'warn', 'drop' or 'error', got {on_unknown!r}")
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, numbers.Real)
                                  or not math.isfinite(depth) or int(depth) != depth or depth < 1):
            raise ValueError(f"depth must be a positive integer or None, got {depth!r}")  # (nan, inf: as such)
        if not isinstance(tag, str) or not tag or any(c.isspace() for c in tag):  # (as write_run and --tag refuse)
            raise ValueError(f"tag must be a non-empty string without whitespace (a run's last column), got {tag!r}")
        if depth is not None:
            self._note_short_feedback(int(depth))
        cand = candidates_frame(run)
        texts = _query_texts(queries, "queries")
        bad_q = ~cand["qid"].isin(set(texts)).to_numpy()
        report: dict[str, Any] = {}
        if bad_q.any():
            ids = cand["qid"][bad_q]
            report.update(unknown_query_rows=int(bad_q.sum()), unknown_queries=_first(ids),
                          n_unknown_queries=int(ids.nunique()))
            if on_unknown == "error":
                i = int(np.flatnonzero(bad_q)[0])
                raise UnknownCandidatesError(
                    f"run: {int(bad_q.sum())} line(s) name {ids.nunique()} query id(s) the queries lack (first: "
                    f"{', '.join(_first(ids))})", first_row=(str(cand["qid"].iat[i]), str(cand["docno"].iat[i])))
            cand = cand[~bad_q]
        dup = cand.duplicated(["qid", "docno"]).to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            report.update(duplicate_rows=int(dup.sum()),
                          first_duplicate=(str(cand["qid"].iat[i]), str(cand["docno"].iat[i])))
            cand = cand[~dup]
        cand = cand.sort_values(["qid", "rank"], kind="stable")
        if depth is not None:
            cand = cand[cand.groupby("qid", sort=False).cumcount() < int(depth)]
        docs = self.index.doc_index(cand["docno"])
        bad_d = docs < 0
        if bad_d.any():
            ids = cand["docno"][bad_d]
            report.update(unknown_doc_rows=int(bad_d.sum()), unknown_docs=_first(ids),
                          n_unknown_docs=int(ids.nunique()))
            if on_unknown == "error":
                i = int(np.flatnonzero(bad_d)[0])
                raise UnknownCandidatesError(
                    f"run: {int(bad_d.sum())} line(s) name {ids.nunique()} document(s) the collection lacks "
                    f"(first: {', '.join(_first(ids))})", tuple(ids),
                    first_row=(str(cand["qid"].iat[i]), str(cand["docno"].iat[i])))
        in_run = list(dict.fromkeys(cand["qid"]))
        cand = cand.assign(doc=docs)[~bad_d]
        by_q = {q: g for q, g in cand.groupby("qid", sort=False)}
        order = [q for q in texts if q in by_q]
        report["empty_queries"] = tuple(q for q in in_run if q not in by_q)
        if not order:
            empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (("qid", str), ("q0", str), ("docno", str),
                                                                      ("rank", np.int64), ("score", np.float64),
                                                                      ("tag", str))})
            return empty, self._said(RunReport(0, 0, **report), on_unknown)
        rows = pd.concat([by_q[q] for q in order], ignore_index=True)
        sizes = [len(by_q[q]) for q in order]
        terms = [self.index.query_terms(texts[q]) for q in order]
        report["termless_queries"] = tuple(q for q, t in zip(order, terms) if _termless(t))
        pairs = PairSet(self.index, terms, group_ptr_from_sizes(sizes),
                        rows["doc"].to_numpy(dtype=np.int32), first_stage_score=rows["score"].to_numpy(np.float64),
                        first_stage_rank=rows["rank"].to_numpy(np.float64), qids=order,
                        query_texts=[texts[q] for q in order], collection=self.collection)
        scores = self.score(self._compute(pairs), group=sizes)
        out = run_from_scores(rows["qid"].to_numpy(), rows["docno"].to_numpy(), scores, tag=tag)
        if self._needs_scores:
            described = getattr(self.model, "feature_set_", None) or {}
            report["first_stage_scale"] = _scale_note(described.get("first_stage_top_scores"), _top_scores(rows))
        return out, self._said(RunReport(len(order), len(out), **report), on_unknown)

    def _note_short_feedback(self, depth: int, *, lists: bool = False) -> bool:
        """Warn when ``depth`` is below the ``fb_docs`` of a pseudo-relevance feedback feature the model reads that
        takes its feedback from the candidates: cut to fewer, its feedback documents (and so its values) are not
        those it had when ``ltr features`` extracted it over the whole first stage. ``lists``: ``depth`` is the
        length of candidate lists given (:meth:`rerank`, :meth:`rerank_many`). Returns whether it warned."""
        short = {}
        for scorer, _, cols in self._served.columns(self.index):
            fb = scorer.params.get("fb_docs")
            if scorer.params.get("fb_source") != "candidates" or not isinstance(fb, int) or fb <= depth:
                continue
            for c in cols:
                if c in self.feature_names and self._reads(self.feature_names.index(c)):
                    short[c] = fb
        if short:
            said = (f"a list of {depth} candidates" if lists else f"depth {depth}")
            fix = ("said once for this reranker" if lists else f"rerank at depth {max(short.values())} or more for "
                   "the same features")
            log.warning("%s is below the feedback documents of %s: their feedback comes from the first %d "
                        "candidates, where the feature set takes %s (as ltr features extracted them from the "
                        "whole first stage); %s", said, ", ".join(short), depth,
                        " / ".join(str(v) for v in sorted(set(short.values()))), fix)
        return bool(short)

    def _short_lists(self, n: int) -> None:
        """:meth:`_note_short_feedback` for candidate lists given, said once per reranker (a service's every call
        would say it again)."""
        if not self._short_said:
            self._short_said = self._note_short_feedback(n, lists=True)

    @staticmethod
    def _said(report: RunReport, on_unknown: str) -> RunReport:
        for line in report.problems() if on_unknown == "warn" else ():
            log.warning("%s", line)
        return report

    def __repr__(self) -> str:
        engine = self.model.engine + (" (ltr.trees)" if self.trees is not None else "")
        return (f"Reranker({self.name}, {engine}, {len(self.feature_names)} features, index of "
                f"{self.index.n_docs} documents)")
