"""The engines behind :class:`ltr.Ranker`: two GBDT engines, each imported only when used, and the linear ranker.

A backend maps the estimator's common hyper-parameters to the engine's own names, trains with either the engine's
native ranking objective or one of the toolkit's Numba kernels (through :mod:`ltr.objectives`), evaluates the
validation sets with :mod:`ltr.metrics` every round (so both engines report the same NDCG, with the same
conventions), and turns a booster into text and back. Nothing here pickles. The ``linear`` backend trains
:mod:`ltr.rankers.linear`'s coordinate ascent; its "booster" is a :class:`~ltr.rankers.linear.LinearModel` and its
text is JSON.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ltr._checked_io import raise_if_interrupted
from ltr._json import python_values
from ltr._stack import stacklevel_outside

__all__ = ["BACKENDS", "INTEGER_LABEL_OBJECTIVES", "LIGHTGBM_BINNING_PARAMS", "StderrHold", "TrainSet",
           "check_integer_labels", "engine_words", "get_backend", "lightgbm_dataset"]

logger = logging.getLogger(__name__)


def engine_words(message: str) -> str:
    """An engine's error on one line, without its ``[LightGBM] [Fatal]`` tag, time stamp, source place and stack
    trace: ``Check failed: (bagging_fraction) <= (1.0) at .../config_auto.cpp, line 375`` -> ``bagging_fraction
    must be <= 1.0 (config_auto.cpp)``."""
    lines = []
    for line in message.strip().splitlines():  # the message, which may run over lines, up to its stack trace
        line = line.strip()
        if not line or line.startswith("Stack trace"):
            break
        lines.append(line)
    text = " ".join(lines).split("Stack trace:")[0].strip().rstrip(";")
    for prefix in ("[LightGBM] [Fatal] ", "[Fatal] "):
        text = text.replace(prefix, "")
    # XGBoost's "[12:00:00] /path/file.h:372: Check failed: name: message": the message
    text = re.sub(r"^\[[0-9:]+\] \S+:\d+: (Check failed: \w+: )?", "", text)
    m = re.match(r"Check failed: \((\w+)\) (\S+) \(([^)]*)\) at \S*?([\w.]+), line \d+", text)
    if m:
        return f"{m[1]} must be {m[2]} {m[3]} ({m[4]})"
    return text.rstrip(". ")


_HOLD_LOCK = threading.RLock()  # file descriptor 2 is the process's: one hold at a time (cv's threaded folds)


class StderrHold:
    """File descriptor 2 (where C++ writes) held in a temporary file from ``with`` until :meth:`release` (or the
    block's end), then written back without the lines that start with ``prefix`` (what LightGBM's C++ prints
    before it throws: ``[LightGBM] [Fatal] ...``, even with ``verbose=-1``), their continuation lines and the blank
    line after them. Other output, another thread's too, is kept; the engine's exception carries the same text, so
    nothing is lost to the error the toolkit words (the dropped lines stay in :attr:`dropped`).

    Hold only where the engine refuses its input (building the data and the booster, the first round): output
    written meanwhile (a round's log line, a progress bar) reaches the terminal only at the release.

    Examples
    --------
    >>> with StderrHold("[X]") as hold:
    ...     _ = os.write(2, b"[X] refused,\\nits second line\\n\\n")
    >>> hold.dropped
    ['[X] refused,', 'its second line']
    """

    #: Holds in force (descriptor 2 held), in every thread.
    active = 0

    def __init__(self, prefix: str):
        self.prefix = prefix.encode()
        self.dropped: list[str] = []
        self._held = None
        self._saved: int | None = None

    def __enter__(self) -> StderrHold:
        _HOLD_LOCK.acquire()
        try:
            sys.stderr.flush()
            self._saved = os.dup(2)
        except (AttributeError, OSError, ValueError):  # no descriptor 2: nothing to hold back
            _HOLD_LOCK.release()
            return self
        try:
            self._held = tempfile.TemporaryFile()
            os.dup2(self._held.fileno(), 2)
            StderrHold.active += 1
        except OSError:  # no temporary file: the engine's lines go through
            if self._held is not None:
                self._held.close()
                self._held = None
            os.close(self._saved)
            _HOLD_LOCK.release()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        """Give descriptor 2 back and write what was held, less the engine's refusal (once; later calls do
        nothing)."""
        if self._held is None:
            return
        held, self._held = self._held, None
        StderrHold.active -= 1
        try:
            try:
                sys.stderr.flush()
            except (AttributeError, OSError, ValueError):
                pass
            os.dup2(self._saved, 2)
            os.close(self._saved)
            held.seek(0)
            kept, dropping = [], False
            for line in held.read().splitlines(keepends=True):
                if line.startswith(self.prefix):
                    dropping = True
                elif dropping and not line.strip():  # the blank line C++ adds after the message: its end
                    dropping = False
                    continue
                elif dropping and line.startswith(b"["):  # another log line: the message has ended
                    dropping = False
                if dropping:  # the refusal and its next lines (a message may run over lines)
                    self.dropped.append(line.decode("utf-8", "replace").rstrip("\r\n"))
                else:
                    kept.append(line)
            if kept:
                os.write(2, b"".join(kept))
        finally:
            held.close()
            _HOLD_LOCK.release()


class EngineWarning(UserWarning):
    """What an engine said while it loaded a model (LightGBM's ``[LightGBM] [Warning]`` lines)."""


_LOGGER_LOCK = threading.Lock()


_UNKNOWN_PARAMETER = re.compile(r"\[LightGBM\] \[Warning\] Ignoring unrecognized parameter '([^']*)' found in model "
                                r"string\.?")


@contextlib.contextmanager
def _lightgbm_said():
    """What LightGBM's C++ logs meanwhile from this thread (``[LightGBM] [Warning] Ignoring unrecognized parameter
    ...`` for a model another LightGBM version wrote), collected instead of printed: its default logger prints on
    standard output, where the lines went into a score file or JSON written there. LightGBM's logger is the
    process's: what another thread logs meanwhile (its training) goes where LightGBM would have logged it. A logger
    the program registered keeps everything (:func:`lightgbm.register_logger`: its choice)."""
    basic = sys.modules.get("lightgbm.basic")
    default = getattr(basic, "_DummyLogger", None)
    names = ("_LOGGER", "_INFO_METHOD_NAME", "_WARNING_METHOD_NAME")
    if default is None or not all(hasattr(basic, n) for n in names):
        yield []
        return
    with _LOGGER_LOCK:  # one model loading at a time swaps the logger; the check is made holding the lock
        if not isinstance(basic._LOGGER, default):
            yield []
            return
        saved = [getattr(basic, n) for n in names]
        said: list[str] = []
        loading = threading.get_ident()

        class Collect:  # LightGBM's logger interface (lightgbm.register_logger)
            def info(self, msg: str) -> None:
                self.said(msg, saved[1])

            def warning(self, msg: str) -> None:
                self.said(msg, saved[2])

            def said(self, msg: str, method: str) -> None:
                if threading.get_ident() == loading:
                    said.append(str(msg).strip())
                else:  # another thread's (its training): where LightGBM would have logged it
                    getattr(saved[0], method)(msg)

        basic.register_logger(Collect())
        try:
            yield said
        finally:
            for n, v in zip(names, saved):
                setattr(basic, n, v)


def _warn_loading(lines: list[str]) -> None:
    """What LightGBM said loading a model as warnings pointing at the first caller outside the toolkit: the
    parameters it ignores (another version's) in one, any other line in its own."""
    unknown, other = [], []
    for line in filter(None, lines):
        m = _UNKNOWN_PARAMETER.fullmatch(line)
        (unknown.append(m[1]) if m else other.append(line))
    level = stacklevel_outside("ltr")
    if unknown:
        import lightgbm

        warnings.warn(EngineWarning(
            f"the model names parameters LightGBM {lightgbm.__version__} does not know ({', '.join(unknown)}: "
            "another LightGBM version wrote it); LightGBM ignores them when it loads the model"), stacklevel=level)
    for line in other:
        warnings.warn(EngineWarning(f"LightGBM, loading the model: {line}"), stacklevel=level)


#: Native objectives whose gains are indexed by the label: a label that is not a whole number is refused.
INTEGER_LABEL_OBJECTIVES = {"lightgbm": ("lambdarank", "rank_xendcg"), "xgboost": ("rank:ndcg",)}


def check_integer_labels(engine: str, objective, y: NDArray, group_ptr: NDArray, *,
                         where: Callable[[int], tuple[str, int, str] | None] | None = None,
                         what: str | None = None) -> None:
    """Refuse a label that is negative or not a whole number for a native objective that indexes its gains by the
    label (:data:`INTEGER_LABEL_OBJECTIVES`; LightGBM's ``label_gain`` table, XGBoost's relevance degrees), naming
    the first such label, its row and query (counted from 0, in training order), and the fix (rows of LETOR's -1
    dropped; the objectives that take real labels), before the engine refuses it in its own words ("set the
    label_gain parameter", "Label should be non-negative", which name neither file nor fix).

    ``where(row)``, when given, is the ``(file, line, token)`` the row was read from (None when unknown): the message
    then names the file's line and label token instead. ``what`` names an objective that needs whole labels other
    than the native ones (the numba lambdarank kernel), and makes the check unconditional.

    Examples
    --------
    >>> check_integer_labels("lightgbm", "lambdarank", np.array([0.0, 2.0, 1.0]), np.array([0, 3]))
    >>> check_integer_labels("lightgbm", "lambdarank", np.array([0.0, 1.31]), np.array([0, 1, 2]))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ltr.exceptions.LabelRangeError: lightgbm's lambdarank needs whole-number labels (...), got 1.31 at row 1 ...
    """
    if what is None:
        if objective not in INTEGER_LABEL_OBJECTIVES.get(engine, ()):
            return
        what = f"{engine}'s {objective}"
    y = np.asarray(y, dtype=np.float64)
    from ltr.exceptions import LabelRangeError

    refuse_negative_labels(y, what=what, where=where)
    bad = np.flatnonzero(np.isfinite(y) & (y != np.floor(y)))
    if bad.size == 0:
        return

    row = int(bad[0])
    query = int(np.searchsorted(group_ptr, row, side="right")) - 1
    place = where(row) if where is not None else None
    if place is not None:
        path, line, token = place
        got = f"{path}:{line}: {what} needs whole-number labels (its gains are indexed by the label), got label " \
              f"{token!r} ({bad.size} such label(s) in all)"
    else:
        got = (f"{what} needs whole-number labels (its gains are indexed by the label), got "
               f"{float(y[row]):.10g} at row {row} (query {query}, both counted from 0 in training order; "
               f"{bad.size} such label(s) in all)")
    fix = ("give integer labels (round or rescale them to 0, 1, 2, ...), or train an objective that takes real "
           "labels: {pointwise} (squared error on the label) or {listnet} (top-one cross-entropy)")
    raise LabelRangeError(
        got, python_fix=fix.format(pointwise="objective='pointwise'", listnet="objective='listnet', kernel='numba'"),
        cli_fix=fix.format(pointwise="--objective pointwise", listnet="--objective listnet --kernel numba"))




@dataclass(frozen=True)
class TrainSet:
    """Rows sorted by query with offsets, as every backend receives them."""

    X: NDArray
    y: NDArray[np.float64]
    group_ptr: NDArray[np.int64]
    weight: NDArray[np.float64] | None = None
    #: A folder for LightGBM's binary Dataset files (training set only; see :func:`lightgbm_dataset`).
    cache: str | None = None
    #: A validation set's row weights for its metrics only (``convention="lightgbm"``: the means weighted by query,
    #: as LightGBM weighs them); the engines never see them.
    metric_weight: NDArray[np.float64] | None = None



def label_at(y: NDArray, row: int, where: Callable[[int], tuple[str, int, str] | None] | None) -> tuple[str, str]:
    """How a label error names ``row``'s label: ``("FILE:LINE: ", "'TOKEN'")`` by ``where``'s file, line and token
    when it knows them, else ``("", "LABEL at row ROW")``."""
    place = where(row) if where is not None else None
    if place is not None:
        return f"{place[0]}:{place[1]}: ", repr(place[2])
    return "", f"{float(y[row]):.10g} at row {row}"


def refuse_negative_labels(y: NDArray, *, what: str, where: Callable[[int], tuple[str, int, str] | None] | None = None,
                           because: str = "its gains are indexed by the label") -> None:
    """Refuse a negative label for ``what`` (an objective), naming the first one (by ``where``'s file, line and
    token when given, else its row) and the fix (LETOR's -1 rows dropped, or the labels shifted)."""
    from ltr.exceptions import LabelRangeError

    y = np.asarray(y, dtype=np.float64)
    negative = np.flatnonzero(y < 0)
    if negative.size:  # a gain table has no entry below 0: LETOR's -1 of an unjudged document, kept
        row = int(negative[0])
        at, token = label_at(y, row, where)
        if np.all(y[negative] == -1):
            fix = "drop the rows of negative labels ({drop}: LETOR's -1 marks an unjudged document), or map them to 0"
        else:  # unjudged='drop' drops -1 only: another negative label is no unjudged mark
            fix = "map the negative labels to 0 or shift the scale to start at 0 ({drop} drops only LETOR's -1)"
        raise LabelRangeError(f"{at}{what} needs labels >= 0 ({because}), got label {token} "
                              f"({negative.size} such label(s) in all)",
                              python_fix=fix.format(drop="read with unjudged='drop'"),
                              cli_fix=fix.format(drop="--unjudged drop"))


def _import(name: str):
    try:
        return __import__(name)
    except ImportError as e:  # pragma: no cover - both are core dependencies
        raise ImportError(f"engine {name!r} is not installed: pip install {name}") from e


def _log_line(stream, line: str) -> None:
    """One line of the training log, written with its newline in one call: ``print`` writes the text and the end
    apart, and a SIGHUP or SIGTERM between the two left the CLI's "hung up" line glued to the log's last one."""
    stream.write(line + "\n")
    stream.flush()


def diverged(where: str) -> Exception:
    """The error of a model whose scores became NaN or infinite while it trained: the boosting diverged (a learning
    rate of 2.5 on XGBoost's squared error reached 1e28 by round 200, NaN by 300)."""
    from ltr.exceptions import TrainingDataError

    said = f"the model's scores on {where} became NaN or infinite while it trained: the boosting diverged"
    return TrainingDataError(f"{said}; lower learning_rate (or raise reg_lambda)",
                             cli=f"{said}; lower --learning-rate (or raise --reg-lambda)")


def _metric_fn(metrics: Sequence[str], metric_params: dict) -> Callable[[NDArray, NDArray, NDArray], dict]:
    from ltr.metrics import evaluate

    def fn(y, score, group_ptr, weight=None):
        if not np.isfinite(score).all():  # (the metrics' own refusal named an argument, y_score, and no cause)
            raise diverged("a validation set")
        values = evaluate(y, score, group_ptr=group_ptr, metrics=list(metrics), weight=weight, **metric_params)
        raise_if_interrupted()  # a Ctrl-C the metrics' first compilation swallowed: stopped here, not at the end
        return values

    return fn


class LightGBMBackend:
    name = "lightgbm"

    def params(self, est, objective: dict | None, n_threads: int) -> dict:
        p = {
            "learning_rate": est.learning_rate,
            "num_leaves": int(est.num_leaves),  # a whole float (a search's 12.0) is taken, as checked: LightGBM
            "max_depth": -1 if est.max_depth is None else int(est.max_depth),  # refuses "12.0" for an integer
            "min_data_in_leaf": int(est.min_child_samples),
            "feature_fraction": est.colsample_bytree,
            "bagging_fraction": est.subsample,
            "bagging_freq": 1 if est.subsample < 1.0 else 0,
            "lambda_l2": est.reg_lambda,
            "verbosity": -1,
            "seed": 0 if est.random_state is None else int(est.random_state),
            "deterministic": True,
            "metric": "None",
            "num_threads": int(n_threads),
        }
        p.update(objective or {})
        from ltr.rankers.aliases import engine_canonical_names, set_by_engine_params

        # An engine parameter given by an alias (min_child_samples, reg_lambda) would lose to the canonical key
        # written above, LightGBM resolving the two in favour of the canonical name: the alias is the one asked for.
        canonical = engine_canonical_names("lightgbm")
        for param, key in set_by_engine_params("lightgbm", est.engine_params).items():
            if key != canonical[param]:
                p.pop(canonical[param], None)
        p.update(python_values(dict(est.engine_params or {})))
        return p

    def train(self, params, train: TrainSet, valid: list[TrainSet], names: list[str], n_rounds: int, fobj,
              metrics, metric_params, early_stopping_rounds, callbacks):
        lgb = _import("lightgbm")
        params = dict(params)
        if fobj is not None:
            params["objective"] = fobj
        check_integer_labels(self.name, params.get("objective"), train.y, train.group_ptr)
        # LightGBM refuses data, labels and parameters while it builds the Dataset and the booster, or in the first
        # round, after printing "[LightGBM] [Fatal] ..." from C++ (verbose=-1 does not silence it): that line is
        # held back until the first round has run (the error raised says it); later rounds print live.
        with StderrHold("[LightGBM] [Fatal]") as hold:
            return self._train(lgb, params, train, valid, names, n_rounds, metrics, metric_params,
                               early_stopping_rounds, [*callbacks, _released_after_first_round(hold)])

    def _train(self, lgb, params, train, valid, names, n_rounds, metrics, metric_params, early_stopping_rounds,
               callbacks):
        if train.cache:
            dtrain = lightgbm_dataset(lgb, train, params)
        else:
            dtrain = lgb.Dataset(train.X, train.y, group=np.diff(train.group_ptr), weight=train.weight,
                                 free_raw_data=False)
        dvalid = [lgb.Dataset(v.X, v.y, group=np.diff(v.group_ptr), reference=dtrain) for v in valid]
        metric = _metric_fn(metrics, metric_params)
        by_id = {id(d): v for d, v in zip(dvalid, valid)}

        def feval(preds, data):
            v = by_id[id(data)]
            return [(k, val, True) for k, val in metric(v.y, preds, v.group_ptr, v.metric_weight).items()]

        record: dict = {}
        cbs = [lgb.record_evaluation(record), *callbacks]
        if early_stopping_rounds and valid:
            # LightGBM's own early_stopping callback checks every validation set (first_metric_only limits the
            # metric, not the set): a recorded training set could stop training. Only the first set counts here.
            cbs.append(_lightgbm_first_set_stopping(lgb, int(early_stopping_rounds), names[0], list(metrics)[0]))
        booster = lgb.train(params, dtrain, num_boost_round=n_rounds, valid_sets=dvalid or None,
                            valid_names=names or None, feval=feval if valid else None, callbacks=cbs)
        best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        return booster, {k: {m: list(v) for m, v in d.items()} for k, d in record.items()}, best

    def predict(self, booster, X, n_iter: int, n_threads: int = 0) -> NDArray[np.float64]:
        # num_threads given: LightGBM's predict without it sets the process's thread count to every core, which a
        # fit running in another thread then took up mid-training (bagging by query is not repeatable across
        # thread counts: four fits on four threads differed from the same fits in turn by up to 0.116; trial t64)
        kw = {"num_threads": int(n_threads)} if n_threads > 0 else {}
        return np.asarray(booster.predict(X, num_iteration=n_iter, raw_score=True, **kw), dtype=np.float64)

    def to_text(self, booster, n_iter: int) -> str:
        return booster.model_to_string(num_iteration=int(n_iter))

    def from_text(self, text: str):
        lgb = _import("lightgbm")
        with _lightgbm_said() as said:
            booster = lgb.Booster(model_str=text)
        _warn_loading(said)
        return booster

    def importances(self, booster, kind: str, n_features: int, n_iter: int) -> NDArray[np.float64]:
        return np.asarray(booster.feature_importance(importance_type=kind, iteration=int(n_iter)), dtype=np.float64)

    def progress_callback(self, bar):
        def cb(env):
            bar.update(1)
        cb.order = 100  # after record_evaluation
        return cb

    def log_callback(self, period: int, stream, n_rounds: int | None = None):
        def cb(env):
            i = env.iteration + 1
            if i % period == 0 or i == env.end_iteration:
                parts = [f"{name} {m}: {val:.6g}" for name, m, val, _ in env.evaluation_result_list]
                _log_line(stream, f"[{i}] " + ("  ".join(parts) or f"of {env.end_iteration} rounds"))
        # After record_evaluation (20), before early stopping (30), which ends training at the last round by
        # raising: running after it, the last round's line was never printed.
        cb.order = 25
        return cb


def _released_after_first_round(hold: StderrHold):
    """LightGBM callback: give standard error back once the first round has run, before that round's log line
    (``log_callback``, order 25) and progress (order 100)."""
    def cb(env) -> None:
        hold.release()
    cb.order = 1
    return cb


class XGBoostBackend:
    name = "xgboost"

    def params(self, est, objective: dict | None, n_threads: int) -> dict:
        method = str((est.engine_params or {}).get("tree_method", "hist"))
        if method == "exact" and (est.max_depth is None or est.max_depth <= 0):  # the ranker's default: no limit
            from ltr.exceptions import ParameterValueError

            reason = "XGBoost's exact method grows trees of a limited depth only"
            raise ParameterValueError(f"engine_params: tree_method='exact': {reason}: give max_depth (6 is XGBoost's "
                                      "default)", cli=f"--param tree_method=exact: {reason}: give --max-depth N (6 is "
                                      "XGBoost's default)", key="tree_method", reason=reason)
        p = {
            "eta": est.learning_rate,
            "max_leaves": int(est.num_leaves),  # whole floats taken as checked (XGBoost refuses "6.0")
            "grow_policy": "lossguide",
            "max_depth": 0 if est.max_depth is None or est.max_depth <= 0 else int(est.max_depth),
            "subsample": est.subsample,
            "colsample_bytree": est.colsample_bytree,
            "lambda": est.reg_lambda,
            "tree_method": "hist",
            "seed": 0 if est.random_state is None else int(est.random_state),
            "disable_default_eval_metric": 1,
            "verbosity": 0,
            "nthread": int(n_threads),
        }
        if objective:
            p.update(objective)
        else:
            # A custom objective starts from 0, as LightGBM's does, so the kernels see the same first scores.
            p["base_score"] = 0.0
        p.update(python_values(dict(est.engine_params or {})))
        constraints = p.get("interaction_constraints")
        if isinstance(constraints, (list, tuple)) and all(
                isinstance(c, (list, tuple)) and all(isinstance(j, int) and not isinstance(j, bool) for j in c)
                for c in constraints):
            # column indices, as XGBoost's documented "[[0, 1], [2, 3]]": its Python layer reads a list as feature
            # names ("Constrained features are not a subset of training data feature names", trial t54)
            p["interaction_constraints"] = json.dumps([list(c) for c in constraints])
        return p

    def _dmatrix(self, xgb, s: TrainSet, params: dict, ref=None):
        # QuantileDMatrix: the hist method's binned matrix built straight from the float32 array (one byte per value),
        # not DMatrix's copy of every value with its index (eight bytes); the trees are the same.
        if params.get("tree_method", "hist") != "hist":  # exact / approx read the values themselves
            d = xgb.DMatrix(s.X, label=s.y, weight=s.weight)
            d.set_group(np.diff(s.group_ptr))
            return d
        extra = {"max_bin": params["max_bin"]} if "max_bin" in params else {}
        return xgb.QuantileDMatrix(s.X, label=s.y, weight=s.weight, group=np.diff(s.group_ptr), ref=ref,
                                   nthread=params.get("nthread"), **extra)

    def train(self, params, train: TrainSet, valid: list[TrainSet], names: list[str], n_rounds: int, fobj,
              metrics, metric_params, early_stopping_rounds, callbacks):
        from ltr.objectives import XGBOOST_BINARY_OBJECTIVES

        xgb = _import("xgboost")
        check_integer_labels(self.name, params.get("objective"), train.y, train.group_ptr)
        # rank:map takes binary relevance: graded labels train as label >= 1, the relevance threshold of trec_eval
        # and of objective="logistic"; the metrics recorded every round read the labels as given.
        seen = train, valid
        if params.get("objective") in XGBOOST_BINARY_OBJECTIVES:  # (logistic's labels come binarised: the same)
            train, valid = _binarised(train), [_binarised(v) for v in valid]
        dtrain = self._dmatrix(xgb, train, params)
        dvalid = [self._dmatrix(xgb, v, params, ref=dtrain) for v in valid]
        train, valid = seen
        metric = _metric_fn(metrics, metric_params)
        by_id = {id(d): (n, v) for d, n, v in zip(dvalid, names, valid)}
        first = list(metrics)[0]

        # XGBoost's custom_metric returns one value; the first metric drives early stopping, the others are
        # recorded by a callback so that the log has every metric of every round.
        extra: dict = {n: {m: [] for m in metrics} for n in names}

        def custom_metric(preds, data):
            name, v = by_id[id(data)]
            res = metric(v.y, preds, v.group_ptr, v.metric_weight)
            for m, val in res.items():
                extra[name][m].append(val)
            return first, res[first]

        cbs = list(callbacks)
        if early_stopping_rounds and valid:
            cbs.append(xgb.callback.EarlyStopping(rounds=int(early_stopping_rounds), metric_name=first,
                                                  data_name=names[0], maximize=True, save_best=False))
        booster = xgb.train(params, dtrain, num_boost_round=n_rounds, evals=list(zip(dvalid, names)),
                            obj=fobj, custom_metric=custom_metric if valid else None, verbose_eval=False,
                            callbacks=cbs or None)
        best = booster.best_iteration + 1 if valid and early_stopping_rounds else booster.num_boosted_rounds()
        return booster, extra if valid else {}, best

    def predict(self, booster, X, n_iter: int, n_threads: int = 0) -> NDArray[np.float64]:
        xgb = _import("xgboost")  # (threads: the booster's own nthread, a setting of that booster alone)
        # by position, as LightGBM scores and as ltrkit checks a DataFrame's columns (a model trained on a named
        # DMatrix refuses unnamed data otherwise)
        return np.asarray(booster.predict(xgb.DMatrix(X), iteration_range=(0, n_iter), output_margin=True,
                                          validate_features=False), dtype=np.float64)

    def to_text(self, booster, n_iter: int) -> str:
        # Keep only the rounds predict uses, as LightGBM's model_to_string(num_iteration=...) does.
        if int(n_iter) < booster.num_boosted_rounds():
            booster = booster[: int(n_iter)]
        return booster.save_raw(raw_format="json").decode("utf-8")

    def from_text(self, text: str):
        xgb = _import("xgboost")
        b = xgb.Booster()
        b.load_model(bytearray(text.encode("utf-8")))
        return b

    def importances(self, booster, kind: str, n_features: int, n_iter: int) -> NDArray[np.float64]:
        if int(n_iter) < booster.num_boosted_rounds():
            booster = booster[: int(n_iter)]
        kind = {"split": "weight", "gain": "total_gain"}[kind]
        scores = booster.get_score(importance_type=kind)
        # get_score keys a booster with feature names by those names (a DataFrame's columns 'f2, f1, f0' are names,
        # not positions), and one without them by XGBoost's 'f<position>'
        names = booster.feature_names
        column = {k: i for i, k in enumerate(names)} if names else {f"f{i}": i for i in range(n_features)}
        out = np.zeros(n_features)
        for k, v in scores.items():
            out[column[k]] = v
        return out

    def progress_callback(self, bar):
        xgb = _import("xgboost")

        class _Bar(xgb.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                bar.update(1)
                return False

        return _Bar()

    def log_callback(self, period: int, stream, n_rounds: int | None = None):
        xgb = _import("xgboost")

        class _Log(xgb.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                i = epoch + 1
                if i % period == 0 or i == n_rounds:
                    parts = [f"{name} {m}: {vals[-1]:.6g}" for name, per in evals_log.items()
                             for m, vals in per.items()]
                    _log_line(stream, f"[{i}] " + ("  ".join(parts) or f"of {n_rounds} rounds"))
                return False

        return _Log()


def _binarised(s: TrainSet) -> TrainSet:
    """The set with binary relevance, label >= 1 (graded labels for an objective that takes 0/1 only)."""
    return TrainSet(s.X, (s.y >= 1).astype(np.float64), s.group_ptr, s.weight, s.cache)


#: LightGBM parameters that change how a Dataset is binned (its "Dataset Parameters" and the few others that
#: reach the binning); a binary Dataset is reused only when all of them, and the data, are the same.
LIGHTGBM_BINNING_PARAMS = (
    "max_bin", "max_bin_by_feature", "min_data_in_bin", "bin_construct_sample_cnt", "data_random_seed", "seed",
    "is_enable_sparse", "enable_bundle", "max_conflict_rate", "use_missing", "zero_as_missing", "feature_pre_filter",
    "min_data_in_leaf", "min_sum_hessian_in_leaf", "categorical_feature", "forcedbins_filename", "linear_tree",
    "pre_partition", "two_round", "device_type", "gpu_use_dp",
)


def _file_digest(path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a cache entry of MSLR-WEB30K's binned data is hundreds of MB); the
    reason it cannot be read otherwise (LightGBM then says its own error)."""
    import hashlib

    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 24), b""):
                h.update(block)
    except (OSError, TypeError) as e:
        return f"unreadable: {e}"
    return h.hexdigest()


def lightgbm_dataset(lgb, train: TrainSet, params: dict):
    """LightGBM's training Dataset, from the binary cache in ``train.cache`` when this data was binned before.

    The key is a SHA-256 of the data (features, labels, query sizes, weights), of the parameters that affect
    binning (:data:`LIGHTGBM_BINNING_PARAMS`, by LightGBM's canonical names: an alias in ``engine_params``,
    ``max_bins``, keys as ``max_bin``; the content of ``forcedbins_filename``'s file too) and of LightGBM's version.
    A miss bins the data and saves ``<key>.bin`` atomically (a temporary name, then a rename), then the SHA-256 of
    its bytes as ``<key>.bin.sha256``; a hit whose bytes still have that digest loads it and skips the binning, most
    of the Dataset construction for MSLR-WEB30K-sized data. An entry whose digest differs is damaged (a warning, as
    for one LightGBM refuses), and one without a digest (written by an earlier ltrkit, or its digest lost) is
    stale: either is binned again and replaced.
    """
    import hashlib
    import json
    import os
    import uuid

    h = hashlib.sha256()
    X = np.ascontiguousarray(train.X) if not hasattr(train.X, "tocsr") else train.X.tocsr()
    if hasattr(X, "indptr"):
        for a in (X.data, X.indices, X.indptr):
            h.update(np.ascontiguousarray(a).reshape(-1).view(np.uint8))
        h.update(repr(X.shape).encode())
    else:
        h.update(f"{X.dtype}{X.shape}".encode())
        h.update(X.reshape(-1).view(np.uint8))
    for a in (train.y, np.diff(train.group_ptr), train.weight):
        h.update(b"-" if a is None else np.ascontiguousarray(a, dtype=np.float64).tobytes())
    from ltr.rankers.aliases import lightgbm_alias_table

    canonical = {alias: name for name, aliases in lightgbm_alias_table().items() for alias in aliases}
    named = {canonical.get(k, k): v for k, v in params.items()}  # max_bins is max_bin: one key for either spelling
    binning = {k: named[k] for k in LIGHTGBM_BINNING_PARAMS if k in named}
    if binning.get("forcedbins_filename"):  # the bins are the file's content, not its name: an edited file reused
        binning["forcedbins_filename"] = [binning["forcedbins_filename"],  # the old bins silently (trial t56)
                                          _file_digest(binning["forcedbins_filename"])]
    h.update(json.dumps([binning, lgb.__version__], sort_keys=True, default=str).encode())
    folder = os.fspath(train.cache)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"lightgbm-{h.hexdigest()[:32]}.bin")
    dataset_params = {k: v for k, v in params.items() if not callable(v)}
    if os.path.exists(path):
        cached = _cached_dataset(lgb, path, dataset_params, train)
        if cached is not None:
            logger.info("LightGBM Dataset loaded from the cache %s", path)
            return cached
    d = lgb.Dataset(train.X, train.y, group=np.diff(train.group_ptr), weight=train.weight, free_raw_data=False,
                    params=dataset_params).construct()
    # A name that does not exist yet: LightGBM's save_binary will not write over an existing file.
    tmp = os.path.join(folder, f".lightgbm-{os.getpid()}-{uuid.uuid4().hex}.tmp.bin")
    try:
        d.save_binary(tmp)
        digest = _file_digest(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    from ltr.io.outputs import atomic_write

    with atomic_write(path + _DIGEST_SUFFIX) as f:  # after the entry: an entry without it is never trusted
        f.write(digest + "\n")
    logger.info("LightGBM Dataset saved to the cache %s", path)
    return d


#: The file beside a cache entry that holds the SHA-256 of its bytes (LightGBM's binary format has no checksum: an
#: entry changed in place, same length, trained another model without a word; trial t66).
_DIGEST_SUFFIX = ".sha256"


def _entry_damage(path: str) -> str | None:
    """Why the cache entry ``path`` cannot be trusted, by its recorded digest ("stale": none recorded), or None."""
    try:
        with open(path + _DIGEST_SUFFIX, encoding="ascii") as f:
            recorded = f.read().strip()
    except FileNotFoundError:
        return "stale"
    except (OSError, ValueError) as e:
        return f"its checksum file cannot be read: {e}"
    if _file_digest(path) != recorded:
        return "its bytes differ from the SHA-256 recorded when it was written"
    return None


#: How LightGBM's binary Dataset files (``Dataset.save_binary``) begin.
_LIGHTGBM_BINARY_TOKEN = b"______LightGBM_Binary_File_Token______\n"


def _cached_dataset(lgb, path: str, params: dict, train: TrainSet):
    """The Dataset a cache entry holds, or None, with a warning naming the file, when it is damaged (its bytes not
    those its recorded SHA-256 was taken of; truncated or overwritten, LightGBM refusing it or holding other data):
    the entry is then binned again and replaced. A damaged entry failed every later run, in LightGBM's words blaming
    'the training parameters or data' (or a bare codec error), and named no file (trial t58); one changed in place,
    at the same length, trained another model without a word (trial t66). An entry without a recorded digest (an
    earlier ltrkit's) is binned again and replaced without a warning."""
    import warnings

    why = _entry_damage(path)
    if why == "stale":
        logger.info("the LightGBM Dataset cache entry %s has no checksum: binned again and replaced", path)
        return None
    refused = False  # by LightGBM, whose C++ printed its refusal
    if why is None:
        try:
            with open(path, "rb") as f:  # another file read as LightGBM's text data (its own words: 'Unknown token')
                if f.read(len(_LIGHTGBM_BINARY_TOKEN)) != _LIGHTGBM_BINARY_TOKEN:
                    raise ValueError("not a LightGBM binary Dataset file")
            refused = True
            d = lgb.Dataset(path, params=params, free_raw_data=False).construct()
            refused = False
            label = d.get_label()
            n_features = train.X.shape[1]
            if d.num_data() != len(train.y) or d.num_feature() != n_features:
                why = (f"{d.num_data()} rows of {d.num_feature()} features, for data of {len(train.y)} rows of "
                       f"{n_features}")
            elif not np.array_equal(np.asarray(label, dtype=np.float32), np.asarray(train.y, dtype=np.float32)):
                why = "other labels than the data's"
        except (lgb.basic.LightGBMError, ValueError, OSError) as e:  # (UnicodeDecodeError is a ValueError)
            why = " ".join(str(e).split())[:200]
        if why is None:
            return d
    if refused and StderrHold.active:  # a held stderr drops LightGBM's refusal up to a blank line (StderrHold):
        with contextlib.suppress(OSError):  # without one this warning went with it
            os.write(2, b"\n")
    warnings.warn(f"the LightGBM Dataset cache entry {path} is damaged ({why}): binned again and replaced",
                  UserWarning, stacklevel=stacklevel_outside("ltr.rankers"))
    return None


def _lightgbm_first_set_stopping(lgb, rounds: int, first_set: str, first_metric: str):
    """LightGBM callback: stop when ``first_set``'s ``first_metric`` (higher is better) has not improved for
    ``rounds`` rounds, ignoring every other set and metric; on the last round, report the best one."""
    state = {"best": -np.inf, "iteration": 0, "results": None}

    def cb(env) -> None:
        value = next((v for name, m, v, _ in env.evaluation_result_list if name == first_set and m == first_metric),
                     None)
        if value is None:  # pragma: no cover - the feval always reports it
            raise ValueError(f"no {first_metric} on {first_set} to stop on")
        if value > state["best"] or state["results"] is None:  # strictly better, as LightGBM's early_stopping
            # (min_delta=0), which takes the first round whatever it scores (a nan is never better)
            state.update(best=value, iteration=env.iteration, results=env.evaluation_result_list)
        elif env.iteration - state["iteration"] >= rounds:
            raise lgb.callback.EarlyStopException(state["iteration"], state["results"])
        if env.iteration == env.end_iteration - 1:
            raise lgb.callback.EarlyStopException(state["iteration"], state["results"])

    cb.order = 30  # LightGBM's early_stopping runs at 30, after record_evaluation (20)
    return cb


class LinearBackend:
    """The coordinate-ascent linear ranker (:mod:`ltr.rankers.linear`): no engine package, the model is JSON."""

    name = "linear"

    def params(self, est, objective: dict | None, n_threads: int) -> dict:
        from ltr.rankers.linear import check_linear_params

        p = check_linear_params(est.engine_params)
        p.update(objective or {})
        norm = getattr(est, "normalizer_", None)  # fitted before the backend is asked: the model records it
        p.update(seed=0 if est.random_state is None else int(est.random_state), n_threads=int(n_threads),
                 normalizer=None if norm is None else norm.to_dict())
        return p

    def train(self, params, train: TrainSet, valid: list[TrainSet], names: list[str], n_rounds: int, fobj,
              metrics, metric_params, early_stopping_rounds, callbacks):
        from ltr.rankers import linear

        return linear.fit(train, valid, names, params, list(metrics), callbacks, metric_params)

    def predict(self, booster, X, n_iter: int, n_threads: int = 0) -> NDArray[np.float64]:
        return booster.predict(X)

    def to_text(self, booster, n_iter: int) -> str:
        return booster.to_json()

    def from_text(self, text: str):
        from ltr.rankers.linear import model_from_text

        return model_from_text(text)

    def importances(self, booster, kind: str, n_features: int, n_iter: int) -> NDArray[np.float64]:
        return booster.importances(kind)

    def progress_callback(self, bar):
        # A bar over restarts (the number of passes per restart is not known in advance).
        def cb(event: str, info: dict) -> None:
            if getattr(bar, "disable", False):
                return
            if bar.total != info["n_restarts"]:
                bar.reset(total=info["n_restarts"])
                bar.unit = "restart"
            if event == "pass":
                bar.n = info["restart"]
                bar.set_postfix_str(f"pass {info['pass'] + 1} objective {info['objective']:.4f}", refresh=True)
            elif event == "end":
                bar.n = info["n_restarts"]
                bar.refresh()
        return cb

    def log_callback(self, period: int, stream, n_rounds: int | None = None):
        count = [0]

        def cb(event: str, info: dict) -> None:
            if event != "pass":
                return
            count[0] += 1
            if count[0] % period == 0:
                parts = [f"restart {info['restart'] + 1} pass {info['pass'] + 1} objective {info['objective']:.6g}",
                         *(f"{name} {m}: {v:.6g}" for name, per in info["evals"].items() for m, v in per.items())]
                _log_line(stream, f"[{count[0]}] " + "  ".join(parts))
        return cb


BACKENDS = {"lightgbm": LightGBMBackend(), "xgboost": XGBoostBackend(), "linear": LinearBackend()}


def get_backend(engine: str):
    try:
        return BACKENDS[engine]
    except KeyError:
        raise ValueError(f"unknown engine {engine!r}; choose one of {sorted(BACKENDS)}") from None
