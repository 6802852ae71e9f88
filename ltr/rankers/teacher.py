"""The teacher of the ``distill`` objective: where its scores come from, and the column it may take from the data.

``Ranker(objective="distill", kernel="numba", objective_params={"teacher": ...})`` takes the teacher as

============================================  =====================================================================
``5`` or ``{"column": 5}``                    a column of the data by 1-based feature id (LETOR's numbering)
``"bm25"`` or ``{"column": "bm25"}``          a column by feature name (the data's ``feature_names``)
``{"scores": "teacher.txt"}``                 a file: one score per line of the LETOR file the data was read from,
                                              in its line order (``ltr predict``'s output), mapped to the rows
                                              ``read_letor(sort=True)`` or ``unjudged="drop"`` moved; or a TREC run
                                              or ``qid<TAB>docid<TAB>score`` lines (the ``neural_file`` scorer's
                                              form) joined on (query id, document id), which also serves the parts
                                              of the data that cross-validation trains on
an array of n_rows numbers                    the scores themselves, one per row of the data as given (its order)
``TeacherScores(values, source=...)``         the same, with where they came from (recorded in place of a
                                              checksum): ``ltr train`` passes a per-row file mapped to the rows
                                              as read (``--sort``, ``--unjudged drop``) and a column of the file
                                              outside a ``--features`` subset so
``TeacherModel(model)`` or a fitted model     any fitted model with ``predict``, scored on the training data as
                                              given (all its columns); :class:`TeacherModel` survives
                                              scikit-learn's ``clone``, which re-creates a bare estimator unfitted
============================================  =====================================================================

A teacher column is excluded from the student's features: it is set to a constant (0) before training, so no tree
can split on it, while the input keeps its width and numbering (``n_features_in_`` counts the column, and a saved
model's feature list is the data's); ``predict`` blanks it too, so data that still has the column scores as
without it, and a saved model knows the column from its parameters. Teacher scores must be finite; the error
names the query, the document (or row) and where the score came from.

The estimator resolves a column against the matrix it is given. ``ltr train --features ... --teacher-column ID``
resolves ID as the file's feature id (or name), before the subset: a column inside the subset becomes its position
there (and is blanked as above, so the student never uses it), a column outside it becomes that column's values,
passed as :class:`TeacherScores`. A per-row score file follows the data file's line order (as ``ltr predict``
writes it); ``ltr train`` maps it through the reader's row order when ``--sort`` or ``--unjudged drop`` changed it.

A model path is loaded by the caller (``TeacherModel(ltr.load_model(path), source=path)``; ``ltr train
--teacher-model`` does it), because loading a model is the persistence layer's job, which sits above the
estimator.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ltr.exceptions import OptionError

__all__ = ["TeacherModel", "TeacherScores", "TeacherSpec", "blank_column", "check_finite", "check_not_filled",
           "describe_teacher", "parse_teacher", "per_row_scores", "teacher_column", "teacher_scores"]

_KINDS = ("column", "scores", "model")


class TeacherModel:
    """A fitted model used as a teacher: ``predict`` delegates to it, and scikit-learn's ``clone`` keeps it fitted.

    Parameters
    ----------
    model : fitted model
        Anything with ``predict(X)``; an :class:`ltr.Ranker` also gets the query offsets (``group=``).
    source : str, optional
        Where it was loaded from, recorded in the student's saved parameters.

    Examples
    --------
    >>> from sklearn.base import clone
    >>> from sklearn.linear_model import LinearRegression
    >>> t = TeacherModel(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), source="teacher.txt")
    >>> clone(t) is t, t.describe()
    (True, {'model': 'teacher.txt'})
    """

    def __init__(self, model: Any, source: str | os.PathLike | None = None):
        if not callable(getattr(model, "predict", None)):
            raise TypeError(f"a teacher model needs a predict method; got {type(model).__name__}")
        self.model = model
        self.source = None if source is None else str(source)

    def __sklearn_clone__(self) -> TeacherModel:
        return self  # a fitted teacher is data, not a hyper-parameter to re-create

    def __repr__(self) -> str:
        return f"TeacherModel({type(self.model).__name__}{f', source={self.source!r}' if self.source else ''})"

    def describe(self) -> dict[str, Any]:
        """What a saved student records about this teacher (JSON)."""
        return {"model": self.source if self.source else f"<{type(self.model).__name__} object>"}

    def predict(self, X, group_ptr: NDArray[np.int64] | None = None,
                feature_names: Sequence[str] | None = None) -> NDArray[np.float64]:
        """The teacher's scores of the rows ``X``, whose columns are named ``feature_names`` (when known). A ranker
        of this toolkit trained on a subset of a file's columns (``ltr train --features``) scores those columns of
        a file as wide as its training file, as ``ltr predict`` does; one whose features are named other than the
        data's columns is refused (a teacher scored the bi-encoder's column as the cross-encoder's: trial t53)."""
        import inspect

        X, feature_names = self._own_columns(X, feature_names)
        takes_group = "group" in inspect.signature(self.model.predict).parameters
        with warnings.catch_warnings():
            # the student's rows come as an array: a teacher fitted on a DataFrame would warn, as scikit-learn
            # does for a user's array, about the toolkit's own call
            warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)
            if takes_group and group_ptr is not None:
                return np.asarray(self.model.predict(X, group=np.diff(group_ptr)), dtype=np.float64)
            return np.asarray(self.model.predict(X), dtype=np.float64)


    def _own_columns(self, X, feature_names):
        """``X`` (and its names) narrowed to the teacher's recorded feature subset, then checked against the
        teacher's feature names."""
        model = self.model
        subset = (getattr(model, "read_options_", None) or {}).get("features")
        width = getattr(model, "n_features_in_", None)
        if (isinstance(subset, dict) and subset.get("ids") and subset.get("n_features") == X.shape[1]
                and width == len(subset["ids"]) and width != X.shape[1]):
            cols = [int(i) - 1 for i in subset["ids"]]
            X = X[:, cols]
            feature_names = None if feature_names is None else [feature_names[c] for c in cols]
        theirs = getattr(model, "feature_names_in_", None)
        if theirs is not None and feature_names is not None and len(theirs) == len(feature_names):
            ours = [str(n) for n in feature_names]
            theirs = [str(n) for n in theirs]
            if ours != theirs:
                j = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
                where = f" {self.source}" if self.source else ""
                raise ValueError(f"its features are not the data's: column {j + 1} is {ours[j]!r} in the data, "
                                 f"{theirs[j]!r} in the teacher model{where}")
        return X, feature_names


class TeacherScores:
    """A teacher's scores, one per training row in the order the estimator is given the rows, and where they came
    from: a saved student records ``{"scores": source}`` rather than a checksum of the array.

    Parameters
    ----------
    values : array-like of shape (n_rows,)
    source : str
        Where the scores came from (a file path, or a description such as ``<feature 47 of train.txt>``).

    Examples
    --------
    >>> from sklearn.base import clone
    >>> t = TeacherScores([0.5, 1.0], source="teacher.scores")
    >>> clone(t) is t, t.describe(), describe_teacher(t)
    (True, {'scores': 'teacher.scores'}, {'scores': 'teacher.scores'})
    """

    def __init__(self, values, source: str | os.PathLike):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"teacher scores must be one-dimensional (one per row), got shape {values.shape}")
        self.values = values
        self.source = os.fspath(source)

    def __sklearn_clone__(self) -> TeacherScores:
        return self  # data, not a hyper-parameter

    def __repr__(self) -> str:
        return f"TeacherScores(<{self.values.size} scores>, source={self.source!r})"

    def describe(self) -> dict[str, Any]:
        """What a saved student records about these scores (JSON)."""
        return {"scores": self.source}


@dataclass(frozen=True)
class TeacherSpec:
    """A parsed teacher: ``kind`` is ``"column"`` (value: 1-based id or name), ``"scores"`` (value: a path or an
    array) or ``"model"`` (value: a :class:`TeacherModel`)."""

    kind: str
    value: Any


def parse_teacher(teacher: Any) -> TeacherSpec:
    """Read ``objective_params["teacher"]`` (forms in the module docstring); a bad one is a ValueError/TypeError.

    Examples
    --------
    >>> parse_teacher(3), parse_teacher({"column": "bm25"}).value, parse_teacher({"scores": "t.txt"}).kind
    (TeacherSpec(kind='column', value=3), 'bm25', 'scores')
    """
    if teacher is None:
        raise ValueError("objective 'distill' needs a teacher: objective_params={'teacher': ...} with a column id or "
                         "name, {'scores': FILE}, an array of scores or a fitted model")
    if isinstance(teacher, dict):
        if len(teacher) != 1 or next(iter(teacher)) not in _KINDS:
            raise ValueError(f"a teacher dict has one key, one of {list(_KINDS)}; got {sorted(teacher)}")
        kind, value = next(iter(teacher.items()))
        if kind == "column":
            return parse_teacher(value) if isinstance(value, (int, np.integer, str)) and not isinstance(
                value, bool) else _bad_column(value)
        if kind == "scores":
            if isinstance(value, (str, os.PathLike)):
                return TeacherSpec("scores", os.fspath(value))
            return parse_teacher(value)
        if isinstance(value, (str, os.PathLike)):
            raise ValueError(f"teacher={{'model': {os.fspath(value)!r}}}: load the model first, "
                             f"teacher=TeacherModel(ltr.load_model({os.fspath(value)!r}), source=...) (a student "
                             "loaded from disk records its teacher's path but not the teacher itself)")
        return parse_teacher(value)
    if isinstance(teacher, bool):
        return _bad_column(teacher)
    if isinstance(teacher, (int, np.integer)):
        if teacher < 1:
            raise ValueError(f"a teacher column is a 1-based feature id (>= 1), got {teacher}")
        return TeacherSpec("column", int(teacher))
    if isinstance(teacher, str):
        return TeacherSpec("column", teacher)
    if isinstance(teacher, os.PathLike):
        raise TypeError(f"teacher={os.fspath(teacher)!r}: say what the file is, {{'scores': path}} (scores or a "
                        "TREC run), or load a model with TeacherModel(ltr.load_model(path))")
    if isinstance(teacher, TeacherModel):
        return TeacherSpec("model", teacher)
    if isinstance(teacher, TeacherScores):
        return TeacherSpec("scores", teacher.values)
    if callable(getattr(teacher, "predict", None)):
        return TeacherSpec("model", TeacherModel(teacher))
    try:
        values = np.asarray(teacher, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"teacher must be a column id or name, {{'scores': FILE}}, an array of scores or a fitted "
                        f"model; got {type(teacher).__name__}") from None
    if values.ndim != 1:
        raise ValueError(f"teacher scores must be one-dimensional (one per row), got shape {values.shape}")
    return TeacherSpec("scores", values)


def _bad_column(value) -> TeacherSpec:
    raise TypeError(f"a teacher column is a 1-based feature id or a feature name, got {value!r}")


def describe_teacher(teacher: Any) -> Any:
    """A JSON form of a teacher for a saved model's parameters: columns and file paths as given, an array by its
    length and checksum, a model by its source.

    Examples
    --------
    >>> describe_teacher({"column": 4}), describe_teacher([0.5, 1.0])["scores"][:10]
    ({'column': 4}, '<2 scores,')
    """
    import hashlib

    if isinstance(teacher, TeacherScores):
        return teacher.describe()
    spec = parse_teacher(teacher)
    if spec.kind == "column" or (spec.kind == "scores" and isinstance(spec.value, str)):
        return {spec.kind: spec.value}
    if spec.kind == "model":
        return spec.value.describe()
    digest = hashlib.sha256(np.ascontiguousarray(spec.value).tobytes()).hexdigest()[:16]
    return {"scores": f"<{spec.value.size} scores, sha256 {digest}>"}


def teacher_column(teacher: Any, n_features: int, feature_names: Sequence[str] | None) -> int | None:
    """The 0-based column a column teacher names (None for other teachers).

    Examples
    --------
    >>> teacher_column(2, 3, None), teacher_column("b", 3, ["a", "b", "c"]), teacher_column([1.0], 3, None)
    (1, 1, None)
    """
    if isinstance(teacher, dict) and set(teacher) != {"column"}:
        return None  # scores or a model (or a saved student's description of one): no column
    spec = parse_teacher(teacher)
    if spec.kind != "column":
        return None
    if isinstance(spec.value, int):
        if spec.value > n_features:
            raise ValueError(f"teacher column {spec.value} is beyond the data's {n_features} features (ids are "
                             "1-based)")
        return spec.value - 1
    names = list(feature_names) if feature_names is not None else None
    if names is None:
        raise ValueError(f"teacher column {spec.value!r} is a name, but the data has no feature names: give its "
                         "1-based id, or names (feature_names=, or a dataset with feature_names)")
    if spec.value not in names:
        raise ValueError(f"teacher column {spec.value!r} is not among the data's feature names ({len(names)} "
                         f"names, e.g. {names[:5]})")
    if names.count(spec.value) > 1:
        raise ValueError(f"teacher column {spec.value!r} names {names.count(spec.value)} columns; give its 1-based id")
    return names.index(spec.value)


def blank_column(X, j: int | None):
    """A copy of ``X`` with column ``j`` set to 0 (dense or CSR; ``X`` itself for None).

    A constant column has one histogram bin in LightGBM and XGBoost, so no tree can split on it: the student keeps
    the input's width (and its saved model the data's feature numbering) without ever seeing the column.

    Examples
    --------
    >>> blank_column(np.array([[1.0, 2.0], [3.0, 4.0]]), 0).tolist()
    [[0.0, 2.0], [0.0, 4.0]]
    """
    if j is None:
        return X
    if sp.issparse(X):
        X = sp.csr_matrix(X, copy=True)
        X.data[X.indices == j] = 0
        X.eliminate_zeros()
        return X
    X = np.array(X, copy=True)
    X[:, j] = 0
    return X


def check_not_filled(X, column: int, feature_names: Sequence[str] | None, qid=None, doc_ids=None,
                     data=None) -> None:
    """Refuse a teacher column whose indicator column (``<name>_missing``, as ``ltr features`` writes beside a
    ``neural_file`` score) marks rows the feature set filled: their values are its ``fill``, not the teacher's, and
    a student would learn them as targets (and could split on the indicator, needing the score file to serve)."""
    if feature_names is None:
        return
    names = [str(n) for n in feature_names]
    flag = f"{names[column]}_missing"
    if flag not in names:
        return
    col = X[:, names.index(flag)]
    filled = np.flatnonzero(np.asarray(col.toarray() if sp.issparse(col) else col).reshape(-1) != 0)
    if filled.size:
        raise ValueError(f"the teacher column {names[column]!r} has no teacher score on {filled.size} of "
                         f"{X.shape[0]} training rows (its indicator {flag!r} is set there: the feature set filled "
                         f"them; first: {_where(int(filled[0]), qid, doc_ids, data)}); a student must not learn filled "
                         "values: give the teacher's score for every candidate, or leave those rows out")


def _at(row: int, data=None) -> str:
    """Where training row ``row`` is: ``FILE:LINE`` when ``data`` (a RankingDataset) was read from a file whose line
    can be found, else ``row N, counting from 0`` (said so: 'row 25' read as a line number; trial t59)."""
    if data is not None:
        from ltr.io.letor import row_line

        found = row_line(data, row)
        if found is not None:
            return f"{data.sources['data']}:{found[0]}"
    return f"row {row}, counting from 0"


def _where(row: int, qid, doc_ids, data=None) -> str:
    q = f"query {qid[row]}" if qid is not None else "query ?"
    d = f", document {doc_ids[row]}" if doc_ids is not None else ""
    return f"{q}{d} ({_at(row, data)})"


def check_finite(values: NDArray[np.float64], source: str, qid=None, doc_ids=None,
                 data=None) -> NDArray[np.float64]:
    """``values`` if all finite and within the kernel's :data:`~ltr.kernels.distill.TEACHER_LIMIT`, else a
    ValueError naming the first bad row's query, document and ``source`` (a score beyond the limit was named by its
    0-based training row alone: trial t65)."""
    from ltr.kernels.distill import TEACHER_LIMIT

    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        count = int(bad.sum())
        raise ValueError(f"the teacher ({source}) scores {_where(i, qid, doc_ids, data)} {float(values[i])}; teacher "
                         f"scores must be finite ({count} row{'s' if count > 1 else ''} in all)")
    big = np.abs(values) > TEACHER_LIMIT
    if big.any():
        i = int(np.flatnonzero(big)[0])
        count = int(big.sum())
        raise ValueError(f"the teacher ({source}) scores {_where(i, qid, doc_ids, data)} {float(values[i]):g}; "
                         f"teacher scores beyond +-{TEACHER_LIMIT:g} give gradients beyond the engines' float32 "
                         f"({count} row{'s' if count > 1 else ''} in all): rescale the teacher (divide its scores by "
                         "their scale)")
    return values


def _pair_table(path: str) -> tuple[list[str], list[str], NDArray[np.float64], str]:
    """A teacher's scores by (query, document): a TREC run (read as trec_eval reads one) or ``qid<TAB>docid<TAB>
    score`` lines (the neural_file scorer's form); a pair given twice is an error naming it."""
    from ltr.exceptions import ScoreFormatError
    from ltr.io import read_run, read_text
    from ltr.io.scores import number

    lines = read_text(path).splitlines()
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    if first.count("\t") != 2:
        run = read_run(path)
        dup = run.duplicated(["qid", "docno"])
        if dup.any():
            from ltr.io import run_lines

            i = int(np.flatnonzero(dup.to_numpy())[0])
            q, d = run["qid"].iat[i], run["docno"].iat[i]
            lines = run_lines(path, q, d)
            where = (lines[1], f" (first on line {lines[0]})") if len(lines) >= 2 else (None, "")
            raise ScoreFormatError(f"teacher run: query {q} lists document {d} twice{where[1]}", path, where[0], d)
        return (run["qid"].astype(str).tolist(), run["docno"].astype(str).tolist(),
                run["score"].to_numpy(dtype=np.float64), "run")
    qids, docs, scores, seen = [], [], [], {}
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in raw.split("\t")]
        if len(fields) != 3 or not all(fields):
            raise ScoreFormatError("expected qid<TAB>docid<TAB>score", path, lineno, raw)
        try:
            value = number(fields[2])
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            from ltr.io.scores import HEADER_HINT, score_header

            header = not qids and score_header(fields[2])
            raise ScoreFormatError("the score must be a finite number" + (f"; {HEADER_HINT}" if header else ""),
                                   path, lineno, fields[2])
        if (fields[0], fields[1]) in seen:
            raise ScoreFormatError(f"query {fields[0]} document {fields[1]} has a score on line "
                                   f"{seen[fields[0], fields[1]]} already", path, lineno, fields[1])
        seen[fields[0], fields[1]] = lineno
        qids.append(fields[0])
        docs.append(fields[1])
        scores.append(value)
    return qids, docs, np.array(scores, dtype=np.float64), "score file"


def _run_scores(path: str, qid, doc_ids, sources, data=None) -> NDArray[np.float64]:
    from ltr.io.qidmap import apply_qid_map, find_qid_map, locate_qid_map

    if doc_ids is None:
        raise ValueError(f"teacher run {path}: joining a TREC run needs document ids in the training data ('#docid "
                         "= ...' comments, as ltr features writes)")
    run_qids, run_docs, run_scores, kind = _pair_table(path)
    mapping = find_qid_map(sources["data"]) if sources and "data" in sources else None
    keys = [str(q) for q in qid]
    if mapping is not None:  # every query of the data in the map (one-to-one), or an error naming it
        keys = apply_qid_map(mapping, keys, locate_qid_map(sources["data"]), sources["data"])
    table = dict(zip(zip(run_qids, run_docs), run_scores.tolist()))
    values = np.array([table.get((k, str(d)), np.nan) for k, d in zip(keys, doc_ids)], dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        from ltr.io.qidmap import padded_examples, padded_ids

        i, n = int(np.flatnonzero(missing)[0]), int(missing.sum())
        padded = padded_ids(set(run_qids), set(keys))  # the teacher's 001 for the data's 1
        cause = (f"; its query ids are the data's with leading zeros ({padded_examples(padded)}): write them as the "
                 "data does") if padded else ""
        raise ValueError(f"teacher {kind} {path} has no score for query {keys[i]}, document {doc_ids[i]} "
                         f"({_at(i, data)}; {n} training row{'s are' if n != 1 else ' is'} missing from it){cause}")
    return values


def per_row_scores(path: str) -> bool:
    """Whether the teacher file ``path`` gives one score per line, for the training rows in order (rather than a
    TREC run or ``qid<TAB>docid<TAB>score`` lines, joined on query and document ids): its first line that is not
    a comment holds one value."""
    from ltr.io import open_binary

    with open_binary(path, "teacher score file") as f:  # its first lines only: the file is read once, later
        for raw in f:
            for piece in raw.split(b"\r"):  # a bare carriage return ends a line too, as read_scores reads one
                line = piece.decode("utf-8", "replace")
                if line.strip() and not line.lstrip().startswith("#"):
                    return len(line.split()) < 2
    return True


def _file_scores(path: str, n_rows: int, qid, doc_ids, sources, data=None) -> NDArray[np.float64]:
    from ltr.exceptions import ScoreFormatError
    from ltr.io import read_scores
    from ltr.io.letor import source_rows

    if path.startswith("<"):
        raise ValueError(f"teacher {{'scores': {path!r}}} describes an array a saved student was trained with; pass "
                         "the scores again to train")
    if not per_row_scores(path):  # a TREC run (qid Q0 docno rank score tag) or qid<TAB>docid<TAB>score lines
        return _run_scores(path, qid, doc_ids, sources, data)
    values = read_scores(path)
    placed = None if data is None else source_rows(data)  # read_letor(sort=True) or unjudged="drop" moved rows
    if placed is None and values.size != n_rows:
        raise ScoreFormatError(f"{values.size} teacher scores for {n_rows} training rows; a score file gives one "
                               "score per training row (under cross-validation each fold trains on part of the "
                               "data: give a TREC run or qid<TAB>docid<TAB>score lines, joined on query and "
                               "document ids, or a teacher column)", path)
    if placed is not None and values.size not in (placed[1], placed[0].size):
        kept = f", of which {placed[0].size} are kept (unjudged='drop')" if placed[0].size != placed[1] else ""
        raise ScoreFormatError(f"{values.size} teacher scores for the {placed[1]} rows of the data's file{kept}; a "
                               "score file gives one score per line of the data's file, in its line order", path)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:  # named by the file's line, as a NaN in it is by the reader
        from ltr.io import read_text

        lines = [(n, line.strip()) for n, line in enumerate(read_text(path).splitlines(), 1) if line.strip()]
        n, token = lines[int(bad[0])] if int(bad[0]) < len(lines) else (None, None)
        raise ScoreFormatError(f"teacher scores must be finite, got {token} ({bad.size} such line(s) in all)", path,
                               n, token)
    if placed is not None:  # line i scores the row read from line i, as ltr train maps it (file_row_scores)
        rows, n = placed
        return values[rows] if values.size == n else values[np.argsort(np.argsort(rows, kind="stable"),
                                                                         kind="stable")]
    return values


def teacher_scores(teacher: Any, X, group_ptr: NDArray[np.int64], *, column: int | None = None, qid=None,
                   doc_ids=None, sources=None, feature_names: Sequence[str] | None = None,
                   data=None) -> NDArray[np.float64]:
    """The teacher's score of every training row, float64, checked finite.

    Parameters
    ----------
    teacher : any form of the module docstring
    X : array or sparse matrix of shape (n_rows, n_features)
        The training data as given (before normalisation, with every column).
    group_ptr : ndarray of int64
    column : int, optional
        The resolved 0-based teacher column (:func:`teacher_column`).
    qid, doc_ids, sources : optional
        The training data's query ids, document ids and source files (for a TREC run teacher and for errors).
    feature_names : sequence of str, optional
    data : RankingDataset, optional
        The training data when read from a LETOR file: errors name a row by its file and line.
    """
    spec = parse_teacher(teacher)
    n_rows = X.shape[0]
    if spec.kind == "column":
        col = X[:, column]
        values = np.asarray(col.toarray() if sp.issparse(col) else col, dtype=np.float64).reshape(-1)
        name = f" ({feature_names[column]!r})" if feature_names is not None else ""
        check_not_filled(X, column, feature_names, qid, doc_ids, data)
        return check_finite(values, f"column {column + 1}{name}", qid, doc_ids, data)
    if spec.kind == "model":
        try:
            values = spec.value.predict(X, group_ptr, feature_names=feature_names)
        except ValueError as e:
            if type(e).__name__ == "NotFittedError":
                raise ValueError("the teacher model is not fitted: scikit-learn's clone (cross-validation, grid "
                                 "search) re-creates an estimator found inside parameters unfitted; pass the fitted "
                                 "teacher as TeacherModel(model), which clone keeps") from None
            raise OptionError(f"the teacher model could not score the training data: {e}; score the teacher on its "
                              "own features and pass its scores (teacher={'scores': FILE})",
                              cli=f"the teacher model could not score the training data: {e}; score the teacher "
                                  "on its own features (ltr predict TEACHER DATA --run --out T.run) and pass its "
                                  "scores (--teacher-scores T.run, joined on query and document ids)") \
                from None
        return check_finite(values.reshape(-1), "model", qid, doc_ids, data)
    if isinstance(spec.value, str):
        values = _file_scores(spec.value, n_rows, qid, doc_ids, sources, data)
        return _warn_ranks(check_finite(values, spec.value, qid, doc_ids, data), group_ptr, spec.value)
    values = spec.value
    source = teacher.source if isinstance(teacher, TeacherScores) else "array"
    if values.size != n_rows:
        raise ValueError(f"teacher scores ({source}): {values.size} given for {n_rows} training rows (one per row)")
    return _warn_ranks(check_finite(values, source, qid, doc_ids, data), group_ptr, f"teacher scores ({source})")


def _warn_ranks(values: NDArray[np.float64], group_ptr: NDArray[np.int64], source: str) -> NDArray[np.float64]:
    """``values``, with a warning when every query's teacher scores are the ranks 1..n: a student distilled from them
    learns the teacher's order reversed, silently (trial t66)."""
    from ltr.io.scores import RANKS_HINT, ranks_like

    ptr = np.asarray(group_ptr, dtype=np.int64)
    if ranks_like(values, np.repeat(np.arange(ptr.size - 1), np.diff(ptr))):
        warnings.warn(f"{source}: {RANKS_HINT}; a student distilled from them learns the teacher's order reversed",
                      UserWarning, stacklevel=4)
    return values
