"""What a ranker accepts, checked once at its boundary: X as an array, a sparse matrix, a DataFrame or a
:class:`~ltr.datasets.RankingDataset`; labels; ``qid`` or ``group``; the validation sets; per-query weights;
and the values an engine would refuse in its own words or silently misread (infinite or missing values,
fractional labels), each refused naming the cell or the file, line and token."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from ltr._dataset import LABEL_LIMIT, refuse_lazy_frame
from ltr._stack import stacklevel_outside
from ltr.datasets import RankingDataset
from ltr.exceptions import GroupError, LabelRangeError
from ltr.frames import as_pandas, check_frame_names, frame_names, unique_frame_names
from ltr.groups import resolve_group_ptr
from ltr.rankers._backends import check_integer_labels

if TYPE_CHECKING:
    from ltr.rankers.ranker import Ranker

__all__ = [
    "as_2d",
    "check_frame_names",
    "check_qid_column",
    "described_features",
    "eval_sets",
    "first_cell",
    "beyond_float32",
    "LABEL_LIMIT",
    "FLOAT32_MAX",
    "FOREIGN_FIT_KEYWORDS",
    "frame_names",
    "is_training_set",
    "query_weights",
    "refuse_fractional_labels",
    "refuse_infinite",
    "refuse_nonfinite",
    "unique_frame_names",
    "unpack",
]


def as_2d(X, what: str = "X"):
    """``X`` as a 2-D array or CSR matrix of real numbers. A sparse matrix keeps its float32 or float64 values (any
    other dtype reads as float64, as scikit-learn's ``check_array``), as a dense array keeps its dtype: the same
    values give the same model in either container, as in LightGBM. Complex values are refused, not truncated."""
    if sp.issparse(X):
        if X.dtype.kind == "c":
            raise ValueError(f"Complex data not supported: {what} has dtype {X.dtype}; pass {what}.real if the "
                             "imaginary part is meaningless")
        return sp.csr_matrix(X, dtype=X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
    refuse_lazy_frame(X, what)
    if X is None:
        raise ValueError(f"{what} is None: pass the features, one row per document (n_rows, n_features)")
    X = as_pandas(X)
    if hasattr(X, "dtypes") and hasattr(X, "iloc"):
        X = _frame_array(X, what)
    else:
        try:
            X = np.asarray(X)
        except ValueError as e:  # NumPy's words named no argument (trial t72)
            raise ValueError(f"{what} must be a 2-D array of numbers, every row as long: {e}") from None
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_rows, n_features), got shape {X.shape}")
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {what} has dtype {X.dtype}; pass {what}.real if the "
                         "imaginary part is meaningless")
    if X.dtype == object:  # numbers held as objects (X.astype(object)): float64, as scikit-learn and the engines
        # read them (they were refused as not numeric: trial t64); any other cell is named
        import numbers

        real = np.frompyfunc(lambda v: isinstance(v, numbers.Real), 1, 1)(X).astype(bool)
        if not real.all():
            r, c = (int(i) for i in np.argwhere(~real)[0])
            raise TypeError(f"{what} must be numeric: the object array holds {X[r, c]!r} (a "
                            f"{type(X[r, c]).__name__}) at row {r}, column {c}")
        X = X.astype(np.float64)
    if not np.issubdtype(X.dtype, np.number) and X.dtype != bool:
        raise TypeError(f"{what} must be numeric, got dtype {X.dtype}")
    return X


def _frame_array(frame, what: str):
    """A pandas DataFrame's values as a float array: pandas' nullable numbers (``Float64``, ``Int64``,
    ``boolean``; ``pd.NA`` as NaN, a missing value) as the engines read them; another column type is named.

    NumPy columns become ``np.result_type`` of their dtypes and float32, as LightGBM reads a frame: a frame of int64
    columns is float64 there, where an int64 array is float32 (it was kept an int64 array, and LightGBM rounded
    values above 2**24 to float32: another model than LGBMRanker's on the same frame; trial t59)."""
    import pandas as pd

    dtypes = frame.dtypes if frame.ndim == 2 else pd.Series([frame.dtype])
    for name, dtype in dtypes.items():
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            raise TypeError(f"{what} must be numeric: column {name!r} has dtype {dtype}")
    if all(isinstance(d, np.dtype) and d.kind in "iuf" for d in dtypes):  # NumPy's own, as LightGBM converts them
        return frame.to_numpy(dtype=np.result_type(*dtypes, np.float32))
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)


class ReadOptionsWarning(UserWarning):
    """A LETOR file read with other values than the model's training data (``missing``, ``zero_based``, XGBoost's
    ``sparse``): its rows are scored otherwise than ``ltr predict`` scores the file."""


def warn_of_read_options(data: RankingDataset, recorded, engine: str | None) -> None:
    """Warn when ``data``, as :func:`ltr.io.read_letor` read it, was read with other values than a model's training
    data (``recorded``: its ``read_options_``) in the options that change its scores
    (:func:`ltr.reader_options.scoring_read_options`): a model trained with ``--missing nan`` scored a file read
    the default way with 146 of 156 MQ2008 queries ordered otherwise than ``ltr predict``'s, silently (trial t54).
    A dataset ``read_letor`` did not return (built in memory, derived) is not checked, nor against a model that
    recorded none (fitted on arrays, a plain engine model; one read the readers' default way records ``{}``)."""
    from ltr.io.letor import read_options_of
    from ltr.reader_options import READER_OPTIONS, recorded_value, same_value, scoring_read_options

    read = read_options_of(data)
    if read is None or not isinstance(recorded, dict):  # (None: not recorded; {}: the readers' defaults)
        return

    differ = [key for key in scoring_read_options(engine)
              if not same_value(recorded_value(key, read), recorded_value(key, recorded))
              and not (engine == "lightgbm" and key == "missing" and recorded_value(key, recorded) == 0.0)]
    # (LightGBM reads a NaN as 0 in a feature that held no missing value in training: the same scores)
    if differ:
        import warnings

        ours = ", ".join(READER_OPTIONS[k].python(recorded_value(k, read)) for k in differ)
        theirs = ", ".join(READER_OPTIONS[k].python(recorded_value(k, recorded)) for k in differ)
        warnings.warn(f"X was read with {ours}, the model's training data with {theirs}: where the file leaves "
                      f"entries out (or counts its ids otherwise) its rows are scored otherwise than ltr predict "
                      f"scores the file; read it with read_letor(PATH, {theirs})", ReadOptionsWarning,
                      stacklevel=stacklevel_outside("ltr.rankers"))


#: The largest float32: labels and weights beyond it are inf to the engines (which keep them as float32).
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: The smallest float64 magnitude that rounds to inf as float32: FLOAT32_MAX plus half its unit in the last place
#: (a tie rounds to the even neighbour, inf). numpy prints float32's largest as 3.4028235e+38, a little above
#: FLOAT32_MAX in float64, and that value rounds to the largest float32, not to inf: it is not "beyond the range".
FLOAT32_INF_FROM = FLOAT32_MAX + 2.0**103


def beyond_float32(v):
    """Where ``v`` (float64 values, an array or a number) would be infinite as float32: inf, or rounding to it
    (NaN is not: it stays NaN)."""
    return np.abs(v) >= FLOAT32_INF_FROM


def _labels(y, n: int, what: str = "y") -> NDArray[np.float64]:
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as e:  # 'could not convert string to float' names no array
        raise ValueError(f"{what} must hold numeric labels: {e}") from None
    if y.shape == (n, 1):  # a column vector: LightGBM and scikit-learn flatten it, with this warning
        import warnings

        from sklearn.exceptions import DataConversionWarning

        warnings.warn(f"{what} is a column vector of shape ({n}, 1) where a 1d array was expected: flattened "
                      "(pass y.ravel())", DataConversionWarning, stacklevel=stacklevel_outside("ltr.rankers"))
        y = y.ravel()
    if y.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},) to match X, got {y.shape}")
    if np.isnan(y).any():
        i = int(np.flatnonzero(np.isnan(y))[0])
        raise ValueError(f"{what} has NaN labels (first at row {i}); labels must be numbers")
    big = np.flatnonzero(~(np.abs(y) <= LABEL_LIMIT))  # inf, or beyond what LightGBM keeps
    if big.size:
        i = int(big[0])
        raise ValueError(f"{what} has a label of {float(y[i]):.6g} at row {i}: labels must be finite numbers within "
                         "+-1e38 (LightGBM clips labels and weights beyond it; both engines keep them as float32)")
    return y


def unpack(X, y, qid, group, what: str = "X"):
    """Accept a RankingDataset, or X, y plus exactly one of qid/group."""
    if isinstance(X, RankingDataset):
        if y is not None or qid is not None or group is not None:
            raise ValueError(f"{what} is a RankingDataset: do not also pass y, qid or group")
        # a dataset built by hand may hold what read_letor never makes: a NaN label trained as 0 (trial t55)
        return X.X, _labels(X.y, X.X.shape[0], f"{what}.y"), np.asarray(X.group_ptr)
    X = as_2d(X, what)
    if y is None:
        raise ValueError(f"{what}: labels y are required")
    y = _labels(y, X.shape[0], "y" if what == "X" else f"{what}'s y")
    if qid is None and group is None and what == "X":  # LightGBM's and XGBoost's users meet it in scikit-learn first
        raise ValueError("pass exactly one of qid= (one query id per row) or group= (query sizes); got neither. "
                         "Inside scikit-learn's cross_val_score or GridSearchCV, qid reaches fit through metadata "
                         "routing: sklearn.set_config(enable_metadata_routing=True), Ranker().set_fit_request("
                         "qid=True), qid=qid, groups=qid to the search's fit (cross_val_score's params=), "
                         "scoring=ltr.evaluation.ndcg_scorer(10); see ltr.evaluation.scoring")
    if what == "X":
        return X, y, resolve_group_ptr(X.shape[0], qid=qid, group=group)
    try:
        return X, y, resolve_group_ptr(X.shape[0], qid=qid, group=group)
    except GroupError as e:  # its words are the training data's ('X has 2874 rows'): name the set
        raise GroupError(f"{what}: {str(e).replace(' X has ', f' {what} has ')}") from None


def check_qid_column(X, qid, group) -> None:
    """XGBRanker's convention of query ids in a DataFrame column named ``qid``: not read here. Without ``qid=`` /
    ``group=`` the error says how to pass the column; with them, a warning says the column trains as a feature."""
    columns = getattr(X, "columns", None)
    if columns is None or sp.issparse(X) or not hasattr(X, "iloc") or "qid" not in list(columns):
        return
    if qid is None and group is None:
        raise ValueError("pass exactly one of qid= (one query id per row) or group= (query sizes); got neither. X "
                         "has a column 'qid' (XGBRanker's convention), which is not read as query ids here: pass "
                         "qid=X.pop('qid')")
    import warnings

    warnings.warn("X has a column 'qid', which trains as a feature (query ids come from qid= / group= here, not "
                  "from XGBRanker's 'qid' column): drop it from X, e.g. qid=X.pop('qid')", UserWarning, stacklevel=3)


def is_training_set(item, X, y) -> bool:
    """Whether an evaluation set is the training data: the same objects, LightGBM's scikit-learn test (a copy, or
    ``ltr train --valid`` naming the training file, is a validation set like any other, as LightGBM takes it)."""
    return item is X if isinstance(item, RankingDataset) else (item[0] is X and item[1] is y)


def _a_set(item) -> bool:
    """Whether an item of a tuple ``eval_set`` is a whole validation set (a RankingDataset, or a pair or triple whose
    first item is a 2-D matrix) rather than the X of an (X, y) pair; an X given as a tuple of row tuples is not."""
    if isinstance(item, RankingDataset):
        return True
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        return False
    first = item[0]
    return sp.issparse(first) or getattr(first, "ndim", None) == 2 or hasattr(first, "columns")


def eval_sets(eval_set, eval_group, eval_qid) -> list[tuple]:
    """Normalise the three ways users pass validation sets to ``(X, y, qid, group)`` or a RankingDataset."""
    if eval_set is None:
        if eval_group is not None or eval_qid is not None:
            raise ValueError("eval_group / eval_qid describe eval_set, which is missing")
        return []
    if isinstance(eval_set, RankingDataset) or (isinstance(eval_set, tuple) and not all(map(_a_set, eval_set))):
        eval_set = [eval_set]  # one set; a tuple of sets is a sequence of them, as a list is (trial t72)
    if not hasattr(eval_set, "__len__"):  # a generator was "object of type 'generator' has no len()"
        raise TypeError(f"eval_set must be a set or a list of them, got a {type(eval_set).__name__}: pass "
                        "list(...)")
    if eval_group is not None and eval_qid is not None:
        raise ValueError("pass eval_group (query sizes, as LightGBM) or eval_qid (one id per row, as XGBoost), "
                         "not both")
    side = eval_group if eval_group is not None else eval_qid
    if side is not None and len(side) != len(eval_set):
        raise ValueError(f"{'eval_group' if eval_group is not None else 'eval_qid'} has {len(side)} entries for "
                         f"{len(eval_set)} evaluation sets")
    out = []
    for i, item in enumerate(eval_set):
        if isinstance(item, RankingDataset):
            if side is not None:
                raise ValueError(f"eval_set[{i}] is a RankingDataset, which carries its own queries: drop "
                                 "eval_group / eval_qid")
            out.append(item)
            continue
        item = tuple(item)
        if side is not None:
            if len(item) != 2:
                raise ValueError(f"with eval_group / eval_qid, eval_set[{i}] must be an (X, y) pair")
            X, y = item
            out.append((X, y, side[i], None) if eval_qid is not None else (X, y, None, side[i]))
        elif len(item) == 3:
            X, y, qid = item
            n = X.shape[0] if hasattr(X, "shape") else len(X)
            q = np.asarray(qid)
            if q.shape[0] != n and q.ndim == 1 and np.issubdtype(q.dtype, np.integer) and q.sum() == n:
                raise ValueError(f"eval_set[{i}]: the third item has {q.shape[0]} entries that sum to the {n} rows: "
                                 "these look like query sizes; pass them as eval_group=[sizes, ...] with (X, y) "
                                 "pairs (LightGBM's convention), or one qid per row in the triple")
            out.append((X, y, qid, None))
        else:
            raise ValueError(f"eval_set[{i}] must be a RankingDataset, an (X, y, qid) triple, or an (X, y) pair "
                             "with eval_group= / eval_qid=")
    return out


#: Keyword arguments of LightGBM's and XGBoost's scikit-learn ``fit`` that ``Ranker.fit`` does not take: where each
#: goes instead. ``fit`` refuses them with a TypeError that says so.
FOREIGN_FIT_KEYWORDS = {
    "eval_at": "a constructor parameter: Ranker(eval_at=(5, 10))",
    "early_stopping_rounds": "a constructor parameter: Ranker(early_stopping_rounds=50)",
    "eval_metric": "Ranker(early_stopping_metric='map') names the metric that stops early (any ltr.metrics name); "
                   "Ranker(eval_at=...) the NDCG cut-offs recorded each round",
    "callbacks": "not supported: fit(log_period=10) prints the round log (LightGBM's log_evaluation), "
                 "Ranker(verbose=1) shows a progress bar, Ranker(early_stopping_rounds=...) stops early, and "
                 "evals_result_ records every round's metrics (record_evaluation)",
    "init_model": "not supported: a Ranker has no warm start or continued training; fit trains from scratch",
    "xgb_model": "not supported: a Ranker has no warm start or continued training; fit trains from scratch",
    "verbose": "a constructor parameter: Ranker(verbose=1) for a progress bar; fit(log_period=10) prints the "
               "round log",
    "feature_name": "fit(feature_names=[...])",
    "categorical_feature": "not supported: every feature is numeric",
    "init_score": "not supported: no initial scores (base margins)",
    "base_margin": "not supported: no initial scores (base margins)",
    "eval_sample_weight": ("a validation RankingDataset's own weights (its .weight file) weigh its NDCG and MAP under "
                            "eval_params={'convention': 'lightgbm'}, as LightGBM does"),
    "eval_X": "LightGBM 4.7's eval_X= / eval_y= are eval_set=[(X_val, y_val), ...] here, with eval_group=[sizes, ...] "
              "(or eval_qid=[ids, ...])",
    "eval_y": "LightGBM 4.7's eval_X= / eval_y= are eval_set=[(X_val, y_val), ...] here, with eval_group=[sizes, ...] "
              "(or eval_qid=[ids, ...])",
    "sample_weight_eval_set": ("a validation RankingDataset's own weights (its .weight file) weigh its NDCG and MAP "
                               "under eval_params={'convention': 'lightgbm'}, as LightGBM does"),
}


def query_weights(sample_weight, ptr: NDArray[np.int64]) -> NDArray[np.float64]:
    """One weight per query from per-row weights, which must be equal within each query (and not all 0)."""
    n_rows = int(ptr[-1])
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"sample_weight must be numbers, one per row, got {sample_weight!r:.80}") from None
    if w.shape != (n_rows,):
        raise ValueError(f"sample_weight must have one weight per row ({n_rows}), got shape {w.shape}")
    if not (np.isfinite(w).all() and (w >= 0).all()):
        i = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise ValueError(f"sample_weight must be finite and >= 0, got {float(w[i])!r} at row {i}")
    first = w[ptr[:-1]]
    differs = np.flatnonzero(np.repeat(first, np.diff(ptr)) != w)
    if differs.size:
        i = int(differs[0])
        q = int(np.searchsorted(ptr, i, side="right") - 1)
        raise ValueError(f"sample_weight must be equal within a query (a query's weight): query {q} (rows "
                         f"{int(ptr[q])}-{int(ptr[q + 1]) - 1}) has {float(w[ptr[q]])!r} and {float(w[i])!r}")
    if not first.sum() > 0:
        raise ValueError("sample_weight gives every query the weight 0")
    return first


def described_features(X, names) -> dict | None:
    """The feature-set description of a training dataset made by the feature layer, when it describes exactly the
    columns trained on (None otherwise: a description of other columns would only mislead)."""
    described = getattr(X, "feature_set", None) if isinstance(X, RankingDataset) else None
    if described is None or names is None or list(described.get("columns") or []) != [str(n) for n in names]:
        return None
    return described


def first_cell(X, bad) -> tuple[int, int, float] | None:
    """The first cell, in row order, whose value ``bad`` (a vectorised predicate) marks, as (row, column, value),
    both counted from 0; of a dense array, or of a sparse matrix's stored values (an absent entry is never marked);
    None when no cell is."""
    if sp.issparse(X):
        csr = sp.csr_matrix(X)
        hits = np.flatnonzero(bad(csr.data))
        if not hits.size:
            return None
        k = int(hits[0])
        return int(np.searchsorted(csr.indptr, k, side="right")) - 1, int(csr.indices[k]), float(csr.data[k])
    arr = np.asarray(X)
    hits = np.argwhere(bad(arr))
    if not hits.size:
        return None
    row, col = (int(v) for v in hits[0])
    return row, col, float(arr[row, col])


def refuse_infinite(X, what: str, data: RankingDataset | None = None) -> None:
    """XGBoost refuses an infinite feature value in its own words ("Input data contains `inf` or a value too large,
    while `missing` is not set to `inf`"), naming neither row nor column: refused here, naming the cell
    (``X[row, column]``, both counted from 0), or, for ``data`` read from a LETOR file whose rows ``X`` holds, the
    file, line and token (NaN is the missing value; LightGBM bins inf as a large value, so only XGBoost's fits ask
    this). Any scipy sparse format is read as CSR, as fit converts it: a DOK matrix has no ``.data`` and a LIL
    matrix's is an array of lists (an inf there reached XGBoost, which named no cell)."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    values = X.data if sp.issparse(X) else np.asarray(X)
    if not np.issubdtype(values.dtype, np.floating):
        return
    limit = FLOAT32_MAX

    def bad(v):  # XGBoost reads its input as float32: a float64 beyond float32's range is inf there
        return beyond_float32(v) if v.dtype.itemsize > 4 else np.isinf(v)

    with np.errstate(invalid="ignore"):
        if not bad(values).any():
            return
        row, col, value = first_cell(X, bad)
    fix = "XGBoost refuses infinite values (NaN is the missing value); replace it, or clip it to a large finite number"
    if np.isfinite(value):
        fix = (f"XGBoost reads values as float32, whose largest is {limit:.8g}: this one would be inf, which it "
               "refuses (NaN is the missing value); clip it to float32's range")
    found = None
    if data is not None and data.sources.get("data"):
        from ltr.io.letor import row_line

        found = row_line(data, row)
    if found is not None:  # the line's own token (the column's id in the file may be another)
        from ltr.exceptions import FileFormatError
        from ltr.io.letor import feature_token

        token = feature_token(found[1], _reads_infinite)
        what_value = "an infinite feature value" if np.isinf(value) else "a feature value beyond float32's range"
        raise FileFormatError(what_value if token is not None else f"{what_value} ({float(value)!r})",
                              data.sources["data"], found[0], token, hint=fix)
    raise ValueError(f"{what}[{row}, {col}] (row {row}, column {col}, both counted from 0) is {float(value)!r}: {fix}")


def _float32_of(text: str) -> float:
    """A LETOR value as the reader keeps it, in float32 ('1e39' is inf); NaN for text that is no number (NULL, which
    the reader takes only as NaN)."""
    try:
        with np.errstate(over="ignore"):
            return float(np.float32(float(text)))
    except ValueError:
        return float("nan")


def _reads_infinite(text: str) -> bool:
    """Whether a LETOR value reads as infinite, as the reader keeps it ('inf', or '1e39', beyond float32)."""
    return math.isinf(_float32_of(text))


def _refuse_first_label(y, where, bad, said: str, python_fix: str, cli_fix: str) -> None:
    """Refuse the first of the labels ``bad`` (a mask over ``y``) by its file, line and token, or its row counted
    from 0: ``{at}{said}, got label {token} ({n} such label(s) in all)``."""
    from ltr.rankers._backends import label_at

    rows = np.flatnonzero(bad)
    if not rows.size:
        return
    at, token = label_at(y, int(rows[0]), where)
    token += "" if at else " (counting from 0)"
    raise LabelRangeError(f"{at}{said}, got label {token} ({rows.size} such label(s) in all)", python_fix=python_fix,
                          cli_fix=cli_fix)


def _refuse_graded_for_logistic(y, where) -> None:
    """The pointwise kernel's logistic loss takes labels 0/1: a graded label is named by its file, line and token
    (the kernel's own check named a 0-based row in Python's words after the data was prepared; trial t55), with
    ``objective="logistic"``, which binarises graded labels as label >= 1, as the way."""
    _refuse_first_label(y, where, ~np.isin(np.asarray(y, dtype=np.float64), (0.0, 1.0)),
                        "the pointwise kernel's logistic loss needs labels 0/1",
                        python_fix="use objective='logistic', which binarises graded labels (label >= 1 is "
                                   "relevant), or binarise them yourself",
                        cli_fix="use --objective logistic, which binarises graded labels (label >= 1 is relevant)")


def _refuse_gain_overflow(y, where) -> None:
    """ListNet's gain target computes 2**label, which overflows above 1000: such a label is named by its file, line
    and token (the kernel's own check named no file, line or option; trial t59), with the softmax target, which
    takes any label, as the way."""
    _refuse_first_label(y, where, np.asarray(y, dtype=np.float64) > 1000,
                        "ListNet's gain target computes 2**label, which overflows above label 1000",
                        python_fix="use objective_params={'target': 'softmax'} (the default), which takes any label",
                        cli_fix="leave out --objective-param target=gain: the default softmax target takes any label")


def refuse_fractional_labels(model: Ranker, data, y, ptr, native_objective) -> None:
    """A label that is not a whole number, for an objective that indexes its gains by the label (the engines'
    lambdarank/rank:ndcg, the numba lambdarank kernel): refused before training, named by the file, line and label
    token when the data was read from a LETOR file (else by its row and query)."""
    objective = None
    linear = model.engine == "linear"
    # distill with alpha > 0 mixes in the lambdarank kernel's lambdas, which index its gains by the label: its labels
    # are refused as that kernel's, by the file's line (they were named by a 0-based row, in Python's words; t57)
    lambdas = model.objective == "lambdarank" or (
        model.objective == "distill" and float((model.objective_params or {}).get("alpha", 0.0)) > 0.0)
    if linear or (native_objective is None and model.objective in ("ranknet", "listnet", "pointwise", "distill")
                  and not lambdas):
        what = None  # the other kernels and the linear ranker's metrics take real labels, but not negative ones
        # (the tree engines refused LETOR's -1, the linear ranker trained on it as a grade: trial t55)
    elif native_objective is not None:
        what, objective = None, native_objective.get("objective")
    elif lambdas:
        what = "the numba lambdarank kernel" if model.objective == "lambdarank" else \
            "the numba distill kernel's lambdarank term (alpha > 0)"
    else:
        return

    def where(row: int) -> tuple[str, int, str] | None:
        from ltr.io.letor import row_line

        found = row_line(data, row)
        if found is None:
            return None
        token = found[1].split()[0]
        try:
            same = float(token) == float(y[row])
        except ValueError:
            same = False
        return (data.sources["data"], found[0], token) if same else None  # else not the row's line after all

    if what is None and (native_objective is None or linear):
        from ltr.rankers._backends import refuse_negative_labels

        refuse_negative_labels(y, what="the linear ranker" if linear else
                               f"the numba {model.objective} kernel", because="relevance grades start at 0",
                               where=where if isinstance(data, RankingDataset) else None)
        if not linear and model.objective == "pointwise" and (model.objective_params or {}).get("loss") == "logistic":
            _refuse_graded_for_logistic(y, where if isinstance(data, RankingDataset) else None)
        if not linear and model.objective == "listnet" and (model.objective_params or {}).get("target") == "gain":
            _refuse_gain_overflow(y, where if isinstance(data, RankingDataset) else None)
        return
    check_integer_labels(model.engine, objective, y, ptr, where=where if isinstance(data, RankingDataset) else None,
                         what=what)
    exp_gain = str((model.engine_params or {}).get("ndcg_exp_gain", (native_objective or {}).get(
        "ndcg_exp_gain", True))).lower() not in ("false", "0")

    def first_above(top: int) -> tuple[str, str, int] | None:
        """The first label above ``top`` as the messages name it: ``(file:line: prefix, label, how many)``."""
        rows = np.flatnonzero(np.asarray(y, dtype=np.float64) > top)
        if not rows.size:
            return None
        row = int(rows[0])
        place = where(row) if isinstance(data, RankingDataset) else None
        if place is None:
            return "", f"{float(y[row]):.10g} at row {row}", rows.size
        return f"{place[0]}:{place[1]}: ", repr(place[2]), rows.size

    def top_of(table, default: int) -> int | None:
        """The highest label a gain table covers (``default`` for none given); None for one given as text (the
        engine or kernel reads it, and says what is wrong)."""
        if table is None:
            return default
        return len(table) - 1 if hasattr(table, "__len__") and not isinstance(table, str) else None

    # XGBoost's own refusal named neither the file nor the label ("Relevance degress must be ...")
    found = first_above(31) if model.engine == "xgboost" and objective == "rank:ndcg" and exp_gain else None
    if found:
        at, token, n = found
        raise LabelRangeError(
            f"{at}XGBoost's rank:ndcg with exponential gains takes labels up to 31, got label {token} ({n} "
            "such label(s) in all)",
            python_fix="for labels that encode an order (MQ2007/8-list) train a listwise objective "
                       "(objective='listnet', kernel='numba'), or pass engine_params={'ndcg_exp_gain': False} with "
                       "eval_params={'gain': 'linear'} (linear gains)",
            cli_fix="for labels that encode an order (MQ2007/8-list) train a listwise objective (--objective listnet "
                    "--kernel numba), or pass --param ndcg_exp_gain=false --gain linear")
    if what is not None and lambdas:  # the lambdarank kernel's gain table, as the kernel checks it, by the file's line
        from ltr.kernels.lambdarank import default_gain_table_size

        params = model.objective_params or {}
        top = top_of(params.get("label_gain"), default_gain_table_size(str(params.get("mode", "exact"))) - 1)
        found = first_above(top) if top is not None else None
        if found:
            at, token, n = found
            raise LabelRangeError(
                f"{at}label {token} is above the gain table of {what}, which covers labels 0..{top} ({n} such "
                "label(s) in all)",
                python_fix="pass a longer label_gain= with eval_params' gain, or for labels that encode an order "
                           "(MQ2007/8-list) a listwise objective (objective='listnet')",
                cli_fix="pass a longer --objective-param 'label_gain=[G0,G1,...]' with --gain, or for labels that "
                        "encode an order (MQ2007/8-list) a listwise objective (--objective listnet)")
    # XGBoost's rank:ndcg reads a table as its form alone (2^l - 1 or l): a label above it was trained with the
    # form's gain, where LightGBM and the kernel refuse it (trial t59)
    table = (model.objective_params or {}).get("label_gain")
    top = top_of(table, 0) if table is not None else None
    found = first_above(top) if model.engine == "xgboost" and objective == "rank:ndcg" and top is not None else None
    if found:
        from ltr.objectives import xgboost_gain_table_error

        raise xgboost_gain_table_error(found[0], top, found[1], found[2])
    # LightGBM's own refusal named neither the file nor the label's line ("Label 37 is not less than the number of
    # label mappings (31)"). Its table: the default (labels 0..30), or one given as an engine parameter or through
    # the objective's options (native_params turns objective_params' label_gain into LightGBM's)
    table = {**(native_objective or {}), **(model.engine_params or {})}.get("label_gain")
    top = top_of(table, 30)
    found = first_above(top) if model.engine == "lightgbm" and objective == "lambdarank" and top is not None else None
    if found:
        at, token, n = found
        table_said = "its default label_gain (2^l - 1)" if table is None else f"the label_gain given ({top + 1} gains)"
        raise LabelRangeError(
            f"{at}LightGBM's lambdarank takes labels 0..{top} under {table_said}, got label {token} ({n} such "
            "label(s) in all)",
            python_fix="for labels that encode an order (MQ2007/8-list) train a listwise objective "
                       "(objective='listnet', kernel='numba'), or pass engine_params={'label_gain': [one gain per "
                       "label]} with eval_params' gain",
            cli_fix="for labels that encode an order (MQ2007/8-list) train a listwise objective (--objective listnet "
                    "--kernel numba), or pass --param label_gain=G0,G1,... (one gain per label) with --gain")


def refuse_nonfinite(X, what: str) -> None:
    """The linear ranker scores every feature, so a missing (NaN) or infinite value has no score: refused, named by
    the file, line and token when ``X`` was read from a LETOR file (trees route such values; the linear model has
    no route), else by its cell ``X[row, column]``."""
    from ltr.exceptions import FileFormatError

    data = X if isinstance(X, RankingDataset) else None
    values = data.X if data is not None else X
    if not sp.issparse(values) and not np.issubdtype(np.asarray(values).dtype, np.number):
        return
    cell = first_cell(values, lambda v: ~np.isfinite(v))
    if cell is None:
        return
    row, col, value = cell
    why = "the linear ranker scores every feature and has no score for a missing or infinite value"
    found = None
    if data is not None:
        from ltr.io.letor import feature_token, row_line

        found = row_line(data, row)
    if found is None:
        raise ValueError(f"{what}[{row}, {col}] (row {row}, column {col}, both counted from 0) is {value}: {why} "
                         "(trees route such values)")
    line, text = found
    names = data.feature_names  # a --features subset keeps the file's ids as its names
    named = str(names[col]) if names is not None and str(names[col]).isdigit() else None
    token = feature_token(text, lambda v: not math.isfinite(_float32_of(v)), named)
    if named is not None and token is not None and token.split(":", 1)[0] != named:
        token = None  # another column's, one the subset leaves out: this column's value is absent from the line
    if token is not None:  # the line's own token: the column's id in the file may be another (ids from 0, a subset)
        raise FileFormatError(f"feature {token.split(':', 1)[0]} is {_float32_of(token.split(':', 1)[1])}: {why}",
                              data.sources["data"], line, token, hint="train trees, which route such values")
    if math.isnan(value):  # absent from the line and read as NaN (missing=nan): the fix is the reader's default
        named = named or col + 1
        raise FileFormatError(f"feature {named} is nan: {why} (feature {named} is absent from the line)",
                              data.sources["data"], line, fix={"missing": 0.0},
                              hint="to read absent features as 0, or train trees")
    # not the line of this row after all: say what is known, nothing more
    raise ValueError(f"{data.sources['data']}: query {data.qid[row]}: a feature is {value}: {why} (trees route "
                     "such values)")
