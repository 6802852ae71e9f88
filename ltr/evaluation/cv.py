"""Cross-validation of rankers over folds of whole queries, with parallel folds and saved artefacts.

:func:`cross_validate` trains a clone of the estimator on each fold of :func:`ltr.evaluation.make_folds` (a LETOR
fold directory, or one dataset cut into query-grouped K folds), stops early on the validation part alone when the
estimator asks for it, evaluates the test part per query, and returns a :class:`~ltr.evaluation.CVResult`:
per-fold and mean +- std of every metric, pooled per-query test values (each query is tested once, so two CV
results over the same folds are paired query by query), the out-of-fold scores (a TREC run when the data carries
document ids), NDCG@1..20, the validation/training metric per boosting round and the feature importances of each
fold. Folds run in parallel with joblib when ``n_jobs`` asks for it, never with more workers than cores, and the
engine threads of each fold are divided so that workers x threads stays within the machine.

Scikit-learn's own tools work on :class:`ltr.Ranker` too; see :func:`ltr.evaluation.ndcg_scorer` for
``GridSearchCV`` with ``GroupKFold`` and query-id routing.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ltr._json import python_values
from ltr._progress import format_elapsed, say, terminal_bar
from ltr.datasets import RankingDataset, dataset_summary
from ltr.evaluation._predict import engine_ranker
from ltr.evaluation.folds import Fold, load_part, make_folds
from ltr.evaluation.results import CVResult, FoldResult, label_digests
from ltr.evaluation.selection import resolve_features, take_columns
from ltr.exceptions import FileFormatError, NothingToStopOnError, OptionError
from ltr.reader_options import refuse_one_files_sidecars
from ltr.threads import cpu_count, resolve_n_jobs

if TYPE_CHECKING:
    from ltr.rankers.normalize import GlobalNormalizer, QueryNormalizer

__all__ = ["CURVE_K", "FoldProgress", "cross_validate", "fold_model_name", "staged_folder", "stops_early"]

logger = logging.getLogger(__name__)

#: Cut-offs of the NDCG@k curve every fold records.
CURVE_K = tuple(range(1, 21))


def _select(d: RankingDataset | None, columns: NDArray[np.intp] | None) -> RankingDataset | None:
    if d is None or columns is None:
        return d
    return take_columns(d, columns)


# Numba (metrics) and scikit-learn (normalisers live beside the estimator) are imported when a fold runs, so that
# `import ltr.evaluation` stays light.
def _apply_normalizer(norm, fit_on: RankingDataset, parts: list[RankingDataset | None]):
    norm.fit(fit_on.X, group_ptr=fit_on.group_ptr)
    return [None if p is None else replace(p, X=norm.transform(p.X, group_ptr=p.group_ptr)) for p in parts]


def _engine_sets_threads(model) -> bool:
    """Whether the model's ``engine_params`` set the engine's thread count (then that count is the user's, and
    ``n_jobs`` beside it would be refused)."""
    from ltr.rankers.aliases import engine_threads_key

    params = model.get_params()
    return engine_threads_key(params.get("engine"), params.get("engine_params")) is not None


def _has_param(estimator, name: str) -> bool:
    try:
        return name in estimator.get_params(deep=False)
    except Exception:  # not a scikit-learn estimator
        return False


def _named(d: RankingDataset | None, names: tuple[str, ...] | None) -> RankingDataset | None:
    """``d`` with ``names`` as its feature names (the widths were checked by :func:`cross_validate`)."""
    if d is None or names is None or d.n_features != len(names):
        return d
    return replace(d, feature_names=names)


def stops_early(estimator, n_queries: int) -> bool:
    """Whether ``estimator``, trained on ``n_queries`` queries, stops early on a validation set: its
    ``early_stopping_rounds`` after any preset (:func:`ltr.rankers.presets.apply_preset`; the small-data preset
    trains fixed rounds). A wrapper with a ``ranker`` parameter (:class:`ltr.dask.DistributedRanker`) answers for it.

    >>> from ltr import Ranker
    >>> stops_early(Ranker(), 5000), stops_early(Ranker(), 50), stops_early(Ranker(preset=None), 50)
    (True, False, True)
    >>> stops_early(Ranker(engine="linear"), 5000)
    False
    """
    est = estimator
    if engine_ranker(est) == "LightGBM":  # LightGBM's own spellings too (early_stopping_round: review 2 of t62)
        from ltr.rankers.aliases import engine_names

        params = est.get_params(deep=False)
        return any(params.get(k) for k in engine_names("lightgbm", "early_stopping_round"))
    if not _has_param(est, "early_stopping_rounds") and _has_param(est, "ranker"):  # a wrapper (ltr.dask)
        from ltr import Ranker

        est = est.get_params(deep=False)["ranker"] or Ranker()
    if not _has_param(est, "early_stopping_rounds"):
        return False
    if getattr(est, "engine", None) == "linear":  # coordinate ascent has no rounds to stop: its default of 50 is idle
        return False
    if hasattr(est, "engine") and hasattr(est, "preset"):
        from ltr.rankers.presets import apply_preset

        effective, _ = apply_preset(est, n_queries)
        return bool(effective.early_stopping_rounds)
    return bool(est.get_params(deep=False)["early_stopping_rounds"])


def _weighted_tests(folds, read_options) -> str | None:
    """How a warning names the test parts that carry row weights (a .weight file beside a fold's test file, or the
    weights of the one data set the folds cut), None when none does."""
    from ltr.io.files import sidecar_stems

    if read_options.get("weight_file", "auto") is None:
        return None
    for f in folds:
        part = f.test
        if isinstance(part, RankingDataset):
            if part.weight is not None:
                return part.sources.get("weight") or "the data's weights"
        elif isinstance(part, (str, os.PathLike)):
            for stem in sidecar_stems(part):
                if os.path.exists(f"{stem}.weight"):
                    return f"{stem}.weight, ..."
    return None


def _check_labels(test: RankingDataset, part, metrics, conventions) -> None:
    """Refuse labels the metrics cannot score (ERR's max_grade, the exp2 gain's limit) before the fold trains, naming
    the fold's test file when it is one (it failed after training, naming no file)."""
    from ltr.metrics import evaluate_per_query

    try:
        evaluate_per_query(test.y, np.zeros(test.y.shape[0]), group_ptr=test.group_ptr, metrics=metrics,
                           **conventions)
    except ValueError as e:
        from ltr.exceptions import LabelRangeError

        if not isinstance(part, (str, os.PathLike)):
            raise
        where = os.fspath(part)
        if isinstance(e, LabelRangeError):
            raise LabelRangeError(f"{where}: {e.reason}", python_fix=e.python_fix, cli_fix=e.cli_fix) from None
        if type(e) is ValueError:
            raise ValueError(f"{where}: {e}") from None
        raise


def _run_fold(estimator, fold: Fold, n_features, columns, metrics, conventions, normalize, record_train,
              save_dir, threads, read_options, names, progress) -> FoldResult:
    from sklearn.base import clone

    from ltr.metrics import aggregate, evaluate_per_query
    from ltr.rankers.normalize import make_normalizer

    train = _select(_named(load_part(fold.train, n_features, **read_options), names), columns)
    vali = _select(_named(load_part(fold.vali, n_features, **read_options), names), columns)
    raw_test = load_part(fold.test, n_features, **read_options)
    test = _select(_named(raw_test, names), columns)
    _check_labels(test, fold.test, metrics, conventions)  # before this fold trains (ERR's max_grade, exp2's limit)
    model = clone(estimator)
    if threads is not None and _has_param(model, "n_jobs") and not _engine_sets_threads(model):
        given = model.get_params()["n_jobs"]
        if given is None or given < 0:  # the default, or every core: the cores are shared among the folds at once
            model.set_params(n_jobs=threads)
    engine = engine_ranker(model)  # LightGBM's or XGBoost's scikit-learn ranker: trained on rows (_fit_rows)
    if progress and engine is None and _has_param(model, "verbose") and not model.get_params()["verbose"]:
        model.set_params(verbose=1)  # a bar over boosting rounds inside the fold (shown on a terminal only)
    norm = None
    if normalize is not None:
        if _has_param(model, "normalize"):  # the model stores and applies it itself
            model.set_params(normalize=normalize if isinstance(normalize, str) else normalize.to_dict())
        else:
            norm = make_normalizer(normalize.to_dict() if not isinstance(normalize, str) else normalize)
            train, vali, test = _apply_normalizer(norm, train, [train, vali, test])
    # The validation part comes first: it alone drives early stopping (the estimator's contract, which
    # ltr.Ranker keeps for both engines); the training part is only recorded, for the training-curve plot.
    eval_set: list[RankingDataset] = []
    names: list[str] = []
    if vali is not None:
        eval_set.append(vali)
        names.append("vali")
    stops = stops_early(model, train.n_queries)  # after any preset: the small-data one trains fixed rounds
    # (not for an engine's ranker: XGBoost stops on the last evaluation set, which would be the training part)
    if record_train and engine is None and (vali is not None or not stops):  # never the training set alone
        eval_set.append(train)
        names.append("train")
    t0 = time.perf_counter()
    fit_kw = {"eval_set": eval_set} if eval_set else {}
    from ltr.rankers.presets import PresetWarning

    with warnings.catch_warnings():  # said once by cross_validate, in the caller's process (a worker's is raw)
        warnings.simplefilter("ignore", PresetWarning)
        try:
            if engine is not None:
                _fit_rows(model, engine, train, vali)
            else:
                model.fit(train, **fit_kw)
        except NothingToStopOnError as e:
            if vali is None or e.set_name != "valid_0":
                raise
            # a fold's validation part that no order changes: said of the fold, with the ranker's own advice (review
            # of trial t61; folds cut by cross_validate could not be told from the user's)
            part = "its validation part"
            python, cli = (f"fold {fold.name}: " + text.replace(e.set_name, part) for text in (str(e), e.cli_message()))
            raise NothingToStopOnError(python, cli=cli, set_name=part) from None
    seconds = time.perf_counter() - t0
    # the whole dataset (per-query normalisers need it), or an engine's ranker its rows
    scores = np.asarray(model.predict(test if engine is None else test.X), dtype=np.float64)
    per_query = evaluate_per_query(test.y, scores, group_ptr=test.group_ptr, metrics=metrics, **conventions)
    curve_names = [f"ndcg@{k}" for k in CURVE_K]
    curve_q = evaluate_per_query(test.y, scores, group_ptr=test.group_ptr, metrics=curve_names, **conventions)
    evals = {}
    record = getattr(model, "evals_result_", None) or {}
    for i, label in enumerate(names):
        # the training part beside the validation part is recorded under LightGBM's name for it, "training"
        per = record.get(f"valid_{i}") or (record.get("training") if label == "train" else None)
        if per:
            evals[label] = {m: [float(v) for v in vals] for m, vals in per.items()}
    # What the small-data preset set for this fold (the parameters were recorded as given): a wrapper (ltr.dask)
    # holds the fitted ranker.
    fitted = getattr(model, "ranker_", model)
    applied = getattr(fitted, "preset_params_", None) or {}
    importance = {}
    if hasattr(model, "feature_importance"):
        for kind in ("gain", "split"):
            importance[kind] = [float(v) for v in model.feature_importance(kind)]
    digests = label_digests(test)
    result = FoldResult(
        name=fold.name,
        metrics=aggregate(per_query),
        qids=[str(q) for q in test.query_ids],
        per_query={m: [float(x) for x in v] for m, v in per_query.items()},
        curve=[aggregate(curve_q)[n] for n in curve_names],
        seconds=seconds,
        rounds=int(getattr(model, "best_iteration_", 0) or 0),
        evals=evals,
        importance=importance,
        n_train_queries=train.n_queries,
        n_test_queries=test.n_queries,
        test_labels=dataset_summary(test)["label_counts"],
        test_sizes=[int(v) for v in test.group_sizes],
        test_label_digests=digests[0],
        test_judgment_digests=digests[1],
        doc_ids=None if test.doc_ids is None else [str(d) for d in test.doc_ids],
        scores=[float(s) for s in scores] if test.doc_ids is not None else None,
        preset_params=_recordable(applied),
        # where it trained: a gpu-or-cpu fold fell back to the CPU, which params' device did not say (trial t57)
        device=getattr(getattr(model, "ranker_", model), "device_", None),
    )
    if save_dir is not None:
        subset = None if columns is None else {"ids": [int(c) + 1 for c in columns], "n_features": int(n_features)}
        from ltr.io.letor import source_rows

        placed = source_rows(raw_test)  # test.scores in the test file's line order, as ltr predict writes them
        in_file_order = scores if placed is None else scores[np.argsort(placed[0], kind="stable")]
        _save_fold(Path(save_dir) / fold.name, model, norm, in_file_order, result, read_options, subset,
                   getattr(train, "feature_set", None))
    return result


def _fit_rows(model, engine: str, train: RankingDataset, vali: RankingDataset | None) -> None:
    """Fit LightGBM's ``LGBMRanker`` or XGBoost's ``XGBRanker`` on a fold as their scikit-learn API takes it: rows,
    labels, ``group=`` sizes, and the validation part alone as ``eval_set`` / ``eval_group`` (given the datasets,
    they failed with "fit() missing 1 required positional argument: 'y'"; trial t62). Row weights, which ltrkit's
    rankers read from a dataset, are refused rather than dropped."""
    if train.weight is not None:
        raise ValueError(f"the training part carries row weights, which cross_validate gives to ltrkit's rankers only "
                         f"(not to {engine}'s {type(model).__name__}): pass ltr.Ranker(engine="
                         f"{engine.lower()!r}) with the same parameters")
    kw: dict[str, Any] = {}
    if vali is not None:
        kw = {"eval_set": [(vali.X, vali.y)], "eval_group": [vali.group_sizes]}
    model.fit(train.X, train.y, group=train.group_sizes, **kw)


def fold_model_name(model) -> str:
    """The file name of a fold's model in a ``save_dir``: ``model.json`` for XGBoost (its JSON model, named as XGBoost
    names it, so that tools keyed on the extension read it as XGBoost's), ``model.txt`` otherwise (LightGBM's model
    text, the linear model). Folders of earlier runs hold ``model.txt`` for every engine; any reader of a model file
    (``ltr predict``, ``ltr export``, ``ltr rerank``, :func:`ltr.load_model`) reads either by its content."""
    return "model.json" if getattr(model, "engine", None) == "xgboost" else "model.txt"


#: What cross-validation writes into a fold folder of ``save_dir`` (a model file with its sidecar, the normaliser,
#: the test scores, the per-query metrics): a later run replaces these, and keeps every other file a user put there.
FOLD_FILES = frozenset({"model.txt", "model.txt.meta.json", "model.json", "model.json.meta.json", "normalizer.json",
                        "test.scores", "per_query.tsv"})


def _save_fold(folder: Path, model, norm, scores, result: FoldResult, read_options, subset=None,
               described=None) -> None:
    import json

    from ltr.evaluation.selection import FEATURES_KEY
    from ltr.io import atomic_write
    from ltr.reader_options import value_options

    # Inside the staging folder, never re-created: a fold still finishing in a worker after an interrupted run
    # removed it must not leave a stray folder behind.
    folder.mkdir(exist_ok=True)
    if hasattr(model, "save"):
        model.read_options_ = value_options(read_options or {})  # ltr predict reads its data the same way
        if subset is not None:  # ... and picks the feature subset's columns, as from ltr train --features
            from ltr.evaluation.selection import subset_description

            model.read_options_ = {**(model.read_options_ or {}), FEATURES_KEY: subset}
            # and keeps the description of ltr features output (``described``: of all the file's columns)
            model.feature_set_ = subset_description(described, subset["ids"],
                                                    getattr(model, "feature_names_in_", None))
        model.save(folder / fold_model_name(model))
    elif (engine := engine_ranker(model)) is not None:  # LGBMRanker, XGBRanker: the engine's own model file
        with atomic_write(folder / ("model.txt" if engine == "LightGBM" else "model.json"),
                          "w" if engine == "LightGBM" else "wb") as f:
            f.write(model.booster_.model_to_string() if engine == "LightGBM" else
                    bytes(model.get_booster().save_raw("json")))
    if norm is not None:
        with atomic_write(folder / "normalizer.json") as f:
            f.write(json.dumps(norm.to_dict(), indent=2) + "\n")
    with atomic_write(folder / "test.scores") as f:
        f.write("".join(f"{s!r}\n" for s in scores.tolist()))
    with atomic_write(folder / "per_query.tsv") as f:
        f.write("\t".join(["qid", *result.per_query]) + "\n")
        for i, q in enumerate(result.qids):
            f.write("\t".join([q, *[repr(result.per_query[m][i]) for m in result.per_query]]) + "\n")


@contextlib.contextmanager
def staged_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Write the sub-folders of ``folder`` (the fold folders of a ``save_dir``) as one unit.

    Yields a hidden, empty staging folder. When the block ends without an exception, every sub-folder written
    there replaces the one of the same name in ``folder``, all together; on an exception (a failed fold, Ctrl-C,
    SIGTERM) the staging folder is removed and ``folder`` is as it was. What ``folder`` holds that the block did not
    write is kept, inside a replaced sub-folder too: its files other than cross-validation's own
    (:data:`FOLD_FILES`) are carried into the new one. Errors name ``folder``'s paths, never the staging folder's.

    The staging folder is made inside ``folder`` (``.ltrkit-XXXX.staging``), not beside it: on the same file system
    even when ``folder`` is a mount point, and writable whenever ``folder`` is. Files written into it should still
    go through :func:`ltr.io.atomic_write`. The replacement moves the old sub-folders aside, then the new ones in
    (a failure in between moves every one back); the old ones are removed with the staging folder.

    Parameters
    ----------
    folder : str or PathLike
        The folder whose sub-folders are replaced; created (with its parents) when missing.

    Yields
    ------
    Path
        The staging folder.

    Examples
    --------
    >>> import os
    >>> d = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(d, "Fold1")); open(os.path.join(d, "notes.txt"), "w").close()
    >>> with staged_folder(d) as staging:
    ...     os.mkdir(staging / "Fold1"); os.mkdir(staging / "Fold2")
    >>> sorted(os.listdir(d))
    ['Fold1', 'Fold2', 'notes.txt']
    """
    folder = Path(folder)
    created = not os.path.lexists(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ltrkit-", suffix=".staging", dir=folder))
    except OSError as e:
        raise _as_folder_error(e, folder) from None
    done = False
    try:
        yield staging
        _replace_subfolders(staging, folder)
        done = True
    except (OSError, ValueError) as e:
        raise _unstaged(e, staging, folder) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not done:  # a failed first run leaves no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()


def _as_folder_error(e: OSError, folder: Path) -> Exception:
    """``folder`` (the user's, as given) cannot be created or written: one line naming it, never a temporary name."""
    from ltr.exceptions import OutputPathError

    reason = {errno.EROFS: "the folder is on a read-only file system",
              errno.EACCES: "the folder is not writable (permission denied)",
              errno.EPERM: "the folder is not writable (permission denied)", errno.ENOSPC: "no space left on device",
              errno.ENOTDIR: "a part of this path is a file, not a folder"}.get(e.errno)
    if reason is None:  # (a reason already worded so, by ltr._checked_io.write_error, is not said twice: t70)
        reason = e.strerror.lower().removeprefix("cannot write: ") if e.strerror else type(e).__name__
    return OutputPathError(str(folder), f"cannot write: {reason}")


def _unstaged(e: BaseException, staging: Path, folder: Path) -> BaseException:
    """``e`` with the staging folder's name in its message (``DIR/.ltrkit-x1y2.staging/Fold1/model.txt``) replaced
    by the folder it stands for (``DIR/Fold1/model.txt``); ``e`` itself when it names no staged path."""
    from ltr.exceptions import OutputPathError

    text = str(e)
    if str(staging) not in text:
        return e
    if isinstance(e, OSError) and not isinstance(e, OutputPathError):
        if e.filename is not None and str(staging) in str(e.filename):
            return _as_folder_error(e, Path(str(e.filename).replace(str(staging), str(folder))))
        return e
    try:
        return type(e)(text.replace(str(staging), str(folder)))
    except TypeError:  # an error class with other arguments: a plain one-line error of the same family
        return (ValueError if isinstance(e, ValueError) else OSError)(text.replace(str(staging), str(folder)))


def _replace_subfolders(staging: Path, folder: Path) -> None:
    from ltr.io.outputs import raise_if_stopped  # here: importing ltr.io loads Numba, which ltr.evaluation does not

    raise_if_stopped()  # an interrupt a library swallowed on its way still leaves the folder as it was
    names = sorted(p.name for p in staging.iterdir())
    check_fold_paths(folder, names)  # (checked before the folds too: the folder may have changed since)
    aside = Path(tempfile.mkdtemp(prefix=".replaced-", dir=staging))  # removed with the staging folder
    moved_aside: list[str] = []
    moved_in: list[str] = []
    modes: dict[str, tuple[int, int, int]] = {}  # each replaced fold folder's bits, owner and group, given to the
    # new one once in place
    for name in names:  # a user's own files in an old fold folder stay (cv's own files are the new run's)
        if (folder / name).is_dir() and not (folder / name).is_symlink() and (staging / name).is_dir():
            _carry_over(folder / name, staging / name)
            modes[name] = _keep_modes(folder / name, staging / name)
    try:
        for name in names:
            if os.path.lexists(folder / name):
                os.replace(folder / name, aside / name)
                moved_aside.append(name)
        for name in names:
            os.replace(staging / name, folder / name)
            moved_in.append(name)
        for name, (mode, uid, gid) in modes.items():  # (after the moves: a read-only folder could not be moved in)
            _keep_owner(folder / name, uid, gid)
            with contextlib.suppress(OSError):
                os.chmod(folder / name, mode)
    except BaseException:  # a failed rename or Ctrl-C in between: the previous sub-folders go back
        for name in reversed(moved_in):
            with contextlib.suppress(OSError):
                os.replace(folder / name, staging / name)
        for name in reversed(moved_aside):
            with contextlib.suppress(OSError):
                os.replace(aside / name, folder / name)
        raise


def check_fold_paths(folder: str | os.PathLike, names) -> None:
    """Refuse, naming the path, a fold folder's name that holds something else than a folder in ``folder`` (a
    save_dir), or one of cross-validation's file names (:data:`FOLD_FILES`) that is a folder inside an old fold
    folder: both were replaced, with what they held, by a run that exited 0 (trial t58), where every other output
    refuses a path of the wrong kind."""
    from ltr.exceptions import OutputPathError

    for name in names:
        path = Path(folder) / name
        if path.is_symlink() or not os.path.lexists(path):
            continue  # (a link is replaced, never what it points to)
        if not path.is_dir():
            raise OutputPathError(str(path), "is a file, where cross-validation writes a fold folder: move it, or "
                                             "give another save folder")
        for file in sorted(FOLD_FILES):
            inner = path / file
            if inner.is_dir() and not inner.is_symlink():
                raise OutputPathError(str(inner), "is a folder, where cross-validation writes a file: move it, or "
                                                  "give another save folder")


def _keep_modes(old: Path, new: Path) -> tuple[int, int, int]:
    """Each replaced file's permission bits on its new content, as :func:`ltr.io.atomic_write` keeps a replaced
    file's (a model made private, 600, came back world-readable, 644, after the next run; trial t56), and, as it
    does, its owner and group when running as root (root's cv gave the user's fold folders to root; trial t58);
    returns the old folder's bits, owner and group, which the caller gives the new folder once it is in place."""
    import stat

    for entry in new.iterdir():
        before = old / entry.name
        if entry.is_symlink() or not entry.is_file() or before.is_symlink() or not before.is_file():
            continue
        st = before.stat()
        _keep_owner(entry, st.st_uid, st.st_gid)
        with contextlib.suppress(OSError):
            os.chmod(entry, stat.S_IMODE(st.st_mode) & 0o1777)
    st = old.stat()
    return stat.S_IMODE(st.st_mode) & 0o1777, st.st_uid, st.st_gid


def _keep_owner(path: Path, uid: int, gid: int) -> None:
    """``path`` given the owner and group :func:`ltr.io.outputs.owner_to_keep` says, as :func:`ltr.io.atomic_write`
    keeps a replaced file's (a link itself, not what it points to)."""
    from ltr.io.outputs import owner_to_keep  # here: importing ltr.io loads Numba, which ltr.evaluation does not

    owner = owner_to_keep(uid, gid) if hasattr(os, "chown") else None
    if owner is not None:
        with contextlib.suppress(OSError):
            os.chown(path, *owner, follow_symlinks=False)


def _carry_over(old: Path, new: Path) -> None:
    """Every entry of the old fold folder that is not one of cross-validation's files (:data:`FOLD_FILES`) and not in
    the new folder, linked into the new one (copied where a hard link cannot be made): a user's notes or predictions
    there survive a later run, and a stale file of cv's own (an old run's normaliser) does not."""

    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    for entry in old.iterdir():
        target = new / entry.name
        if entry.name in FOLD_FILES or os.path.lexists(target):
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), target)
        elif entry.is_dir():
            shutil.copytree(entry, target, symlinks=True, copy_function=link)
        else:
            link(entry, target)
        for made, was in _pairs(target, entry):  # made anew (a folder, a link, a copy): its owner and group kept,
            st = os.lstat(was)  # as the replaced files' are (root's cv gave them to root; review of trial t58)
            _keep_owner(made, st.st_uid, st.st_gid)


def _pairs(new: Path, old: Path):
    """``(path under new, the same path under old)`` for ``new`` and everything under it (links not followed)."""
    yield new, old
    if new.is_dir() and not new.is_symlink():
        for root, dirs, files in os.walk(new):
            for name in (*dirs, *files):
                made = Path(root) / name
                yield made, old / made.relative_to(new)


class FoldProgress:
    """Progress over folds on standard error: tqdm's bar on a terminal; anywhere else (a file, a pipe, CI,
    ``nohup``), where tqdm draws nothing, a line at the start and one per finished fold with its test score and the
    time elapsed (as :class:`ltr.tuning.progress.TuneProgress` does for a search).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()  # not a terminal: lines
    >>> p = FoldProgress("lambdarank", 2, 1, "ndcg@10", file=out, clock=lambda: 0.0)
    >>> p.fold_done(FoldResult("Fold1", {"ndcg@10": 0.5}, ["1"], {}, [], 1.0, 10)); p.close()
    >>> print(out.getvalue(), end="")
    cv lambdarank: 2 folds, one at a time
    cv lambdarank: fold 1/2 (Fold1) done: test ndcg@10 0.5000, 0s elapsed
    """

    def __init__(self, name: str, n_folds: int, workers: int, metric: str, *, file=None, clock=time.monotonic):
        self.name, self.n_folds, self.metric, self.file, self.clock = name, n_folds, metric, file, clock
        self.start, self.done = clock(), 0
        self.bar = terminal_bar(n_folds, f"cv {name}", "fold", file)
        if self.bar is None:  # not a terminal: lines instead
            self._line(f"{n_folds} fold{'s' if n_folds != 1 else ''}, "
                       + ("one at a time" if workers == 1 else f"{workers} at a time"))

    def _line(self, text: str) -> None:
        say(f"cv {self.name}: {text}", self.file)

    def fold_done(self, result: FoldResult) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
            return
        score = result.metrics.get(self.metric)
        shown = "" if score is None else f": test {self.metric} {score:.4f}"
        self._line(f"fold {self.done}/{self.n_folds} ({result.name}) done{shown}, "
                   f"{format_elapsed(self.clock() - self.start)} elapsed")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_folds(estimator, folds: list[Fold], args: tuple, workers: int, backend: str, bar,
               on_fold=None) -> list[FoldResult]:
    results: list[FoldResult] = []

    def finished(r: FoldResult) -> None:
        results.append(r)
        if bar is not None:
            bar.fold_done(r)
        if on_fold is not None:
            on_fold(r)

    if workers == 1:
        for fold in folds:
            finished(_run_fold(estimator, fold, *args, bar is not None and bar.bar is not None))
        return results
    from joblib import Parallel, delayed

    if backend not in ("loky", "multiprocessing"):  # threads: the caller's logging and warnings see everything
        gen = Parallel(n_jobs=workers, backend=backend, return_as="generator")(
            delayed(_run_fold)(estimator, fold, *args, False) for fold in folds)
        for r in gen:
            finished(r)
        return results
    said: set = set()
    gen = Parallel(n_jobs=workers, backend=backend, return_as="generator")(
        delayed(_run_fold_reporting)(estimator, fold, *args, False) for fold in folds)
    for r, logged, warned in gen:
        _say_again(logged, warned, said)
        finished(r)
    return results


def _run_fold_reporting(estimator, fold, *args):
    """:func:`_run_fold` in a worker process, with what it logged (the toolkit's records of WARNING and above) and
    the warnings it raised, for the caller to say in its own process: a worker has none of the caller's handlers or
    filters (the command line's one-line display, an application's logging), where its messages went unformatted,
    once per worker."""
    import multiprocessing
    import signal

    if multiprocessing.parent_process() is not None and threading.current_thread() is threading.main_thread():
        # Ctrl-C reaches the whole process group: the caller stops the folds (joblib ends its workers), where a
        # worker's own KeyboardInterrupt printed its traceback (found by a trial)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("ltr", "features")]
    saved = [(lg, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = _run_fold(estimator, fold, *args)
    finally:
        for lg, propagate in saved:
            lg.removeHandler(handler)
            lg.propagate = propagate
    logged = [(r.name, r.levelno, r.getMessage()) for r in records]
    warned = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
    return result, logged, warned


def _say_again(logged, warned, said: set) -> None:
    """What a worker logged and warned, logged and warned here (each distinct message once over the workers)."""
    for name, level, message in logged:
        if ("log", name, level, message) not in said:
            said.add(("log", name, level, message))
            logging.getLogger(name).log(level, "%s", message)
    for message, category, filename, lineno in warned:
        if ("warn", message, category) not in said:
            said.add(("warn", message, category))
            warnings.warn_explicit(message, category, filename, lineno)


def cross_validate(
    estimator,
    data: RankingDataset | str | os.PathLike | Sequence[Fold],
    *,
    metrics: str | Sequence[str] = ("ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map"),
    n_splits: int = 5,
    validation: bool | str = "auto",
    random_state: int | None = 0,
    n_jobs: int | None = 1,
    backend: str = "loky",
    normalize: str | dict | QueryNormalizer | GlobalNormalizer | None = None,
    features: Sequence[int | str] | None = None,
    n_features: int | None = None,
    record_train: bool = True,
    save_dir: str | os.PathLike | None = None,
    progress: bool = True,
    name: str | None = None,
    gain: str = "exp2",
    no_relevant: float = 0.0,
    convention: str = "default",
    read_options: Mapping[str, Any] | None = None,
    feature_names: Sequence[str] | None = None,
    max_grade: float = 4.0,
    on_fold: Callable[[FoldResult], None] | None = None,
) -> CVResult:
    """Train and test ``estimator`` on every fold.

    Parameters
    ----------
    estimator : scikit-learn-style ranker
        Cloned per fold; ``fit(train, eval_set=[vali, train])`` and ``predict(test)`` on
        :class:`~ltr.RankingDataset` objects, as :class:`ltr.Ranker` takes them. The first evaluation set (the
        validation part) alone drives early stopping when the estimator has ``early_stopping_rounds``; the
        training part is recorded for the training-curve plot, never used to stop. LightGBM's ``LGBMRanker`` and
        XGBoost's ``XGBRanker`` (or a subclass) are given what their own ``fit`` takes instead:
        ``fit(train.X, train.y, group=sizes, eval_set=[(vali.X, vali.y)], eval_group=[sizes])`` (the validation
        part only, when there is one) and ``predict(test.X)``; a training part with row weights is refused.
    data : RankingDataset, path or list of Fold
        A dataset or a LETOR file (cut by :func:`~ltr.evaluation.query_kfold`), a LETOR fold directory
        (:func:`~ltr.evaluation.letor_folds`), or ready folds (see :func:`~ltr.evaluation.make_folds`).
    metrics : str or sequence of str
        Test metrics, names as :func:`ltr.metrics.parse_metric` takes them.
    n_splits, random_state
        For a single dataset or file: see :func:`query_kfold`.
    validation : bool or "auto", default="auto"
        For a single dataset or file: hold out a validation part in each fold (:func:`query_kfold`'s rotation:
        train on K - 2 parts). ``"auto"`` holds one out only when the estimator would stop early on it, trained on
        that many queries: not under :class:`ltr.Ranker`'s small-data preset, which trains its fixed rounds
        (:mod:`ltr.rankers.presets`), so that those folds train on K - 1 parts. The result's ``settings`` record
        the choice (``"validation"``).
    n_jobs : int, optional, default=1
        Folds trained at once, with the toolkit's meaning of ``n_jobs`` (:mod:`ltr.threads`: ``-1`` every core,
        None one fold at a time). Capped by the number of folds and of cores; with more than one worker, an
        estimator whose ``n_jobs`` is None or negative (every core) gets ``cores // workers`` engine threads, so that
        workers x threads never exceeds the cores.
    backend : {"loky", "threading"}, default="loky"
        joblib backend for parallel folds: processes (any objective) or threads (less start-up; LightGBM releases
        the GIL, Python-level custom objectives do not).
    normalize : str, dict or normaliser, optional
        ``"zscore"``, ``"minmax"``, ``"sum"`` (per query) or ``"global-zscore"``/``"global-minmax"`` (fitted on each
        fold's training part), see :mod:`ltr.rankers.normalize`. An estimator with a ``normalize`` parameter
        gets it (and stores it with the model); otherwise the fold's parts are transformed here and the
        normaliser is saved as ``normalizer.json`` next to the fold's model.
    features : sequence of int or str, optional
        Keep only these features: 1-based LETOR ids or names (see :func:`ltr.evaluation.select_features`).
    n_features : int, optional
        Width for LETOR files (default: the first training file's).
    record_train : bool, default=True
        Also evaluate the training part every round, for the training-curve plot.
    save_dir : path, optional
        Save each fold's model (``FoldK/model.txt``, or ``FoldK/model.json`` for XGBoost: :func:`fold_model_name`;
        with its sidecar), test scores (``test.scores``, one per line in the test file's row order) and per-query
        metrics (``per_query.tsv``). The fold folders are staged and replace
        the save_dir's ones together when every fold has succeeded (:func:`staged_folder`): a failed or interrupted
        run leaves the previous run's folders as they were.
    progress : bool, default=True
        A tqdm bar over folds on a terminal; elsewhere a line per finished fold (:class:`FoldProgress`).
    name : str, optional
        The system's name in reports (default: the estimator's objective, else its class name).
    gain, no_relevant, convention, max_grade
        Metric conventions (:mod:`ltr.metrics`); ``convention="letor"`` evaluates as the official LETOR 3.0/4.0
        script, to compare with published LETOR tables; ``max_grade`` is ERR's highest grade (recorded in the
        result's settings when it is not 4).
    read_options : mapping, optional
        Options of :func:`ltr.io.read_letor` for files read by path (``unjudged``, ``overflow``, ``sort``, ...).
    feature_names : sequence of str, optional
        One name per column, given to every part in place of the names it carries (a registered set's
        documented names, :func:`ltr.registry.feature_names`), so that the result, the importances and the fold
        models are named. Its length must be the data's width.
    on_fold : callable, optional
        Called with each fold's :class:`FoldResult` as that fold finishes (in this process, folds in order), before
        the next ones have run: what a caller says about a fold (``ltr cv --dataset`` compares its files' counts
        with the registry's) is said then, not after every fold has trained.

    Returns
    -------
    CVResult

    Examples
    --------
    >>> from ltr import Ranker, make_ranking
    >>> res = cross_validate(Ranker(n_estimators=5, min_child_samples=2, n_jobs=1), make_ranking(30, 6, 4,
    ...                      random_state=0), n_splits=3, metrics=["ndcg@5"], progress=False)
    >>> len(res.folds), sorted(res.mean())
    (3, ['ndcg@5'])
    """
    from ltr.metrics import parse_metrics
    from ltr.rankers.normalize import make_normalizer

    names = [p.name for p in parse_metrics(metrics)]
    conventions: dict[str, Any] = {"gain": gain, "no_relevant": no_relevant}
    if convention != "default":
        conventions["convention"] = convention
    if max_grade != 4.0:
        conventions["max_grade"] = float(max_grade)
    if backend not in ("loky", "threading"):
        raise ValueError(f"backend must be 'loky' or 'threading', got {backend!r}")
    read_options = dict(read_options or {})
    norm = make_normalizer(normalize)  # validates the name early
    if validation == "auto":
        validation = functools.partial(stops_early, estimator)
    elif not isinstance(validation, (bool, np.bool_)):
        raise ValueError(f"validation must be True, False or 'auto', got {validation!r}")
    # a single file is read at n_features too, as each fold folder's files are (load_part)
    folds, source, datasets = make_folds(data, n_splits, random_state=random_state, validation=validation,
                                         read_options={**read_options, "n_features": n_features} if n_features
                                         else read_options)
    if not folds:
        raise ValueError("no folds to run")
    files = {str(part) for f in folds for part in (f.train, f.vali, f.test) if isinstance(part, (str, os.PathLike))}
    refuse_one_files_sidecars(read_options, len(files), f"the folds read {len(files)} files")
    weighted = _weighted_tests(folds, read_options)
    if weighted:
        warnings.warn(f"the row weights of the test parts ({weighted}) are not used by the test metrics: each query "
                      "counts once, so that ltr compare can pair them by query (ltr evaluate --convention lightgbm "
                      "weighs a file's means by query, as LightGBM does)", UserWarning, stacklevel=2)
    first = load_part(folds[0].train, n_features, **read_options)
    width = first.n_features if n_features is None else n_features
    given = None
    if feature_names is not None:
        given = tuple(str(n) for n in feature_names)
        if len(given) != width:
            raise ValueError(f"feature_names has {len(given)} names but the data has {width} features")
        first = _named(first, given)
    if not isinstance(folds[0].train, RankingDataset):  # reuse the read file for fold 1
        folds[0] = Fold(folds[0].name, first, folds[0].vali, folds[0].test)
    feature_names = list(first.feature_names) if first.feature_names is not None else None
    columns = None
    if features is not None:
        try:
            columns = resolve_features(features, width, feature_names)
        except ValueError as e:
            if isinstance(e, FileFormatError):  # a feature file's line: named by its file
                raise
            raise OptionError(f"features: {e}", cli=f"--features/--drop-features: {e}") from None
        feature_names = [feature_names[c] if feature_names else str(c + 1) for c in columns]
    cores = cpu_count()
    workers = min(len(folds), cores, resolve_n_jobs(1 if n_jobs is None else n_jobs, what="n_jobs (parallel folds)"))
    threads = max(1, cores // workers) if workers > 1 else None
    params = {}
    try:
        params = _recordable(estimator.get_params(deep=False))
    except Exception:  # an estimator without get_params
        pass
    system = name or _system_name(params, estimator)
    headline = "ndcg@10" if "ndcg@10" in names else names[0]  # the tables' headline, as ltr train reports it
    bar = FoldProgress(system, len(folds), workers, headline) if progress else None
    # Each fold writes its folder into a staging folder; the save_dir's fold folders are replaced only when every
    # fold has succeeded, so that an interrupted run never leaves new folds beside the previous run's.
    if save_dir is not None:  # before any fold trains: a path of the wrong kind is refused, not replaced
        check_fold_paths(save_dir, [f.name for f in folds])
    staged = contextlib.nullcontext(None) if save_dir is None else staged_folder(save_dir)
    try:
        with staged as staging:
            args = (width, columns, names, conventions, norm, record_train, staging, threads, read_options, given)
            results = _run_folds(estimator, folds, args, workers, backend, bar, on_fold)
    finally:
        if bar is not None:
            bar.close()
    applied = next((r.preset_params for r in results if r.preset_params), None)
    if applied:  # what the preset replaced, said here once rather than by every fold (from a worker, in raw form)
        from ltr.rankers.presets import warn_replaced

        warn_replaced(estimator, applied)
    if not datasets:  # a fold directory: the test parts pooled (the whole data set in the LETOR layout)
        datasets = [_pooled_test_summary(results)]
    settings = {**source, "normalize": None if norm is None else norm.to_dict(), "features": None if columns is None
                else [int(c) + 1 for c in columns], "metric_conventions": conventions, "n_jobs": workers,
                "read_options": read_options}
    return CVResult(system, names, results, feature_names, params, settings, datasets)


def _pooled_test_summary(folds: list[FoldResult]) -> dict[str, Any]:
    labels: dict[str, int] = {}
    for f in folds:
        for k, v in f.test_labels.items():
            labels[k] = labels.get(k, 0) + int(v)
    sizes = [s for f in folds for s in f.test_sizes]
    return {"name": "test parts", "n_queries": len(sizes), "n_rows": int(sum(sizes)),
            "n_features": None, "label_counts": dict(sorted(labels.items(), key=lambda kv: float(kv[0]))),
            "rows_per_query": sizes}


def _recordable(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a result file can record (NumPy values as Python ones: ``random_state=np.int64(3)`` is
    recorded as 3); one JSON cannot hold (a callable, an estimator) is left out."""
    import json

    out = {}
    for k, v in python_values(dict(params)).items():
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out


def _system_name(params: dict, estimator) -> str:
    """A system's default name: its objective (``lambdarank``), or for the linear engine ``linear-<metric>``
    (coordinate ascent optimises a metric; calling it after the default objective ``lambdarank`` misled)."""
    from ltr.dask import DistributedRanker  # imports no Dask: its wrapper is named after the ranker it trains

    if isinstance(estimator, DistributedRanker):
        from ltr import Ranker

        inner = estimator.ranker if estimator.ranker is not None else Ranker(engine="xgboost")
        return _system_name(inner.get_params(deep=False), inner)
    objective = params.get("objective")
    if params.get("engine") == "linear" and objective:
        from ltr.rankers.linear import linear_objective

        try:
            return f"linear-{linear_objective(str(objective))}"
        except ValueError:
            return "linear"
    return str(objective or type(estimator).__name__)
