"""Saving and loading rankers: the engine's own model text plus a JSON sidecar, never pickle.

A saved model is two files written atomically: ``MODEL`` (LightGBM's model text, or XGBoost's JSON model, holding
only the rounds ``predict`` uses) and ``MODEL.meta.json``. The sidecar holds everything else that changes
predictions (the rounds used, the normaliser, the feature count and names, the parameters) and a SHA-256 checksum
over the model text *and* the sidecar's own content, so that a truncated or edited file is refused at load time.

Loading checks, in order, before anything reaches an engine: the sidecar's format and checksum, then the model's
structure (:mod:`ltr.trees`: tree count, node and leaf indices, finite thresholds and values, feature indices),
so that a corrupt or hand-edited model is a :class:`~ltr.exceptions.ModelFormatError` naming the file and what is
wrong, never a crash inside the engine.

A plain LightGBM model text or XGBoost JSON model without a sidecar loads too, for prediction: its feature names
and the conventions it was trained with are unknown, which :func:`load_model` says with a :class:`UserWarning`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np

from ltr._meta_path import not_the_checksum
from ltr.exceptions import ModelFormatError, NotAModelError
from ltr.io.files import checked_path
from ltr.io.outputs import reading_together
from ltr.rankers._backends import EngineWarning, engine_words, get_backend
from ltr.rankers.ranker import Ranker
from ltr.rankers.sidecar import MODEL_FORMAT, OLD_FORMATS, checksum, find_meta_path, meta_path
from ltr.trees.loaders import LIGHTGBM_DUMP, lightgbm_dump, refuse_compressed, ubjson_as_json

__all__ = ["MODEL_FORMAT", "EngineWarning", "PlainModelWarning", "load_model", "meta_path", "save_model"]



class PlainModelWarning(UserWarning):
    """A model loaded without an ltrkit sidecar: feature names and training conventions are unknown.

    ``command_line``: the message as the command line words it (:meth:`cli_message`), where it differs;
    ``without_data``: the message without what it says of scoring data (for ``ltr export``, which reads none)."""

    def __init__(self, message: str, command_line: str | None = None, without_data: str | None = None):
        super().__init__(message)
        self.command_line = command_line
        self.without_data = without_data

    def cli_message(self) -> str:
        return self.command_line or str(self)


def save_model(model: Ranker, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` and ``path.meta.json`` (the same as :meth:`Ranker.save`)."""
    model.save(path)


def _no_constant(name: str):
    """``NaN`` and ``Infinity``, which Python's reader takes and JSON has not (a sidecar is written without them)."""
    raise ValueError(f"{name} is not a JSON value")


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise ModelFormatError(f"{path}: is a folder, not a model file")
    if path.exists() and not path.is_file():  # /dev/null, a pipe: said 'no such file' (trial t56)
        raise ModelFormatError(f"{path}: not a regular file (a device or a pipe?): a model is read from its file, "
                               "beside its .meta.json sidecar")
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "model file not found", str(path))  # as open() and read_letor
    raw = path.read_bytes()
    if not raw.strip():
        raise NotAModelError(f"{path}: an empty file, not a model")
    if raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):  # pickle's PROTO opcode
        raise NotAModelError(f"{path}: a Python pickle, not a model file: ltrkit never unpickles (pickles run code "
                             "when read); save models with Ranker.save or ltr train --out (text and JSON)")
    refuse_compressed(raw, path)
    text = ubjson_as_json(raw, str(path))  # XGBoost's UBJSON (or its old binary format, refused by name)
    if text is not None:
        return text
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotAModelError(f"{path}: not a text model file (byte {e.start} is not UTF-8)") from None


def _sniff_engine(text: str) -> str | None:
    head = text.lstrip()[:4096]
    if head.startswith(("tree\n", "tree\r")):  # LF, CRLF or CR-only (old-Mac) line ends, all LightGBM's
        return "lightgbm"
    if head.startswith("{") and '"learner"' in head:
        return "xgboost"
    if head.startswith("{") and '"ltrkit-linear/' in head:
        return "linear"
    return None


def _structure(engine: str, text: str, path: Path):
    """Parse and validate the model's trees before an engine sees them (ModelFormatError on any defect)."""
    from ltr import trees

    if engine == "lightgbm":
        return trees.from_lightgbm_text(text, source=str(path))
    return trees.from_xgboost_json(text, source=str(path))


def _booster(engine: str, text: str, path: Path):
    try:
        return get_backend(engine).from_text(text)
    except Exception as e:  # the engine's own error type; validation makes this unlikely
        raise ModelFormatError(f"{path}: the {engine} engine could not load the model ({engine_words(str(e))})") \
            from e


def load_model(path: str | os.PathLike) -> Ranker:
    """Load a model written by :meth:`Ranker.save`, or a plain LightGBM / XGBoost (JSON) model file.

    Never unpickles. Checks the sidecar's checksum (over the model text and the sidecar) and the model's
    structure before handing it to the engine. The model predicts as the saved one did; what described its training
    run only is not restored (``evals_result_`` is ``{}``, no ``n_rounds_`` or ``n_threads_``: :meth:`Ranker.save`).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ModelFormatError
        The model's sidecar is missing, or either file is truncated, edited, structurally invalid, or of an
        unknown format.

    Warns
    -----
    PlainModelWarning
        For a model without a sidecar: it predicts, but its feature names and conventions are unknown.
    EngineWarning
        What LightGBM said loading the model (the parameters of another version it ignores), which its default
        logger would print on standard output.
    """
    path = Path(checked_path(path))
    with reading_together(path.resolve().parent):  # the pair as one save left it, not one's text beside another's
        text = _read_text(path)  # sidecar (a save renames the two in under the folder's exclusive lock)
        mpath = find_meta_path(path, text)  # beside the model, or beside a link saved through before sidecars
        meta_text = mpath.read_bytes() if mpath.is_file() else None  # followed
    if not mpath.exists():
        return _load_plain(path, text)
    if not mpath.is_file():
        raise ModelFormatError(f"{mpath}: is not a file")
    try:
        meta = json.loads(meta_text.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise ModelFormatError(f"{mpath}: not valid JSON ({e})") from None
    except RecursionError:  # (a bare RecursionError naming no file: trial t72)
        raise ModelFormatError(f"{mpath}: JSON nested too deeply") from None
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if isinstance(fmt, str) and fmt.startswith("ltrkit-model/") and fmt not in (MODEL_FORMAT, *OLD_FORMATS):
        raise ModelFormatError(f"{mpath}: an ltrkit model sidecar of format {fmt!r}, which this version "
                               f"({MODEL_FORMAT!r}) does not read: use the ltrkit that wrote it, or train the model "
                               "again")  # (it was called no ltrkit sidecar, with nothing to do: trial t72)
    if fmt not in (MODEL_FORMAT, *OLD_FORMATS):
        raise ModelFormatError(f"{mpath}: not an ltrkit model sidecar (expected format {MODEL_FORMAT!r}, got "
                               f"{fmt!r})")
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != meta.get("model_sha256"):
        said = meta.get("params")
        raise ModelFormatError(not_the_checksum(path, mpath, said.get("engine") if isinstance(said, dict) else None,
                                                _sniff_engine(text)))
    if fmt == MODEL_FORMAT:
        if meta.get("checksum") != checksum(meta, text):
            raise ModelFormatError(f"{mpath}: the sidecar does not match its checksum; it was edited after saving "
                                   "(its rounds, normaliser or feature list would change the predictions)")
    else:
        warnings.warn(f"{mpath}: an {fmt} sidecar has no checksum of its own; re-save the model to protect it "
                      f"(ltr.load_model(PATH).save(PATH) writes the {MODEL_FORMAT} sidecar)",
                      UserWarning, stacklevel=2)
    try:
        params = dict(meta["params"])
        n_features, best = meta["n_features"], meta["best_iteration"]
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFormatError(f"{mpath}: missing or invalid field ({e})") from None
    # a sidecar written before presets existed trained without one: loaded with today's default ('auto'), a clone
    # refitted 15 leaves at 0.02 where the sidecar says 31 at 0.05 (trial t72)
    params.setdefault("preset", None)
    for key, value in (("n_features", n_features), ("best_iteration", best)):
        if not isinstance(value, int) or isinstance(value, bool):  # 88.9 and "88" were read as 88 (trial t72)
            raise ModelFormatError(f"{mpath}: {key} must be a whole number, got {value!r}")
    seconds = meta.get("fit_seconds")
    if seconds is not None and (not isinstance(seconds, (int, float)) or isinstance(seconds, bool)):
        raise ModelFormatError(f"{mpath}: fit_seconds must be a number, got {seconds!r}")
    for key in ("eval_at", "preset_keep"):  # tuples, written as JSON lists
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    if isinstance(params.get("eval_params"), dict):  # no_relevant nan, written as the string 'nan' (sidecar._plain)
        params["eval_params"] = {k: float(v) if v in ("nan", "inf", "-inf") else v
                                 for k, v in params["eval_params"].items()}
    try:
        model = Ranker(**params)
    except TypeError as e:
        raise ModelFormatError(f"{mpath}: unknown parameters ({e})") from None
    if model.engine not in ("lightgbm", "xgboost", "linear"):
        raise ModelFormatError(f"{mpath}: unknown engine {model.engine!r}")
    if model.engine == "linear":  # JSON weights: checked against the sidecar's feature count and normaliser
        from ltr.rankers.linear import model_from_text

        model.booster_ = model_from_text(text, source=str(path), n_features=n_features,
                                         normalizer=meta.get("normalizer"))
    else:
        ensemble = _structure(model.engine, text, path)
        if ensemble.n_features != n_features:
            raise ModelFormatError(f"{path}: the model is {ensemble.n_features} features wide but {mpath.name} says "
                                   f"{n_features}")
        if not 1 <= best <= ensemble.n_iterations:
            raise ModelFormatError(f"{mpath}: best_iteration {best} is outside the model's "
                                   f"1..{ensemble.n_iterations} rounds")
        model.booster_ = _booster(model.engine, text, path)
    model.n_features_in_ = n_features
    if meta.get("feature_names") is not None:
        names = meta["feature_names"]
        if not isinstance(names, list) or len(names) != n_features:
            raise ModelFormatError(f"{mpath}: feature_names must list {n_features} names")
        model.feature_names_in_ = np.asarray(names, dtype=object)
    model._fitted_on_frame = bool(meta.get("frame_columns", False))  # (absent in models saved before it was)
    model._names_given = bool(meta.get("names_given", False))  # (likewise)
    sparse = meta.get("sparse_fit")  # (likewise; None: not recorded)
    if sparse is not None and not isinstance(sparse, bool):
        raise ModelFormatError(f"{mpath}: sparse_fit must be true, false or null, got {sparse!r}")
    model._sparse_fit = sparse
    model.best_iteration_ = best
    model.data_fingerprint_ = meta.get("data_fingerprint")
    model.fit_seconds_ = float(meta.get("fit_seconds") or float("nan"))
    trained_on = meta.get("trained_on")  # (absent in models saved before it was recorded)
    if trained_on not in (None, "cpu", "gpu"):
        raise ModelFormatError(f"{mpath}: trained_on must be 'cpu' or 'gpu', got {trained_on!r}")
    model.device_ = trained_on
    versions = meta.get("versions")  # (absent in models saved before it was recorded)
    model.trained_with_ = {"ltrkit": meta.get("ltrkit_version"), **(versions if isinstance(versions, dict) else {})}
    model.evals_result_ = {}
    model.read_options_ = meta.get("read_options")
    if model.read_options_ is not None and not isinstance(model.read_options_, dict):
        raise ModelFormatError(f"{mpath}: read_options must be a table of reader options")
    model.feature_set_ = _feature_set(meta.get("feature_set"), n_features, mpath, model.read_options_,
                                      meta.get("feature_names"))
    preset = meta.get("preset_params")
    if preset is not None and not isinstance(preset, dict):
        raise ModelFormatError(f"{mpath}: preset_params must be a table of parameters")
    model.preset_params_ = dict(preset or {})
    model.normalizer_ = None
    if meta.get("normalizer") is not None:
        from ltr.rankers.normalize import normalizer_from_dict

        try:
            model.normalizer_ = normalizer_from_dict(meta["normalizer"])
        except (ValueError, KeyError, TypeError) as e:
            raise ModelFormatError(f"{mpath}: bad normalizer ({e})") from None
        if model.normalizer_.needs_groups is False and getattr(model.normalizer_, "n_features_in_", None) != \
                model.n_features_in_:
            raise ModelFormatError(f"{mpath}: the global normalizer does not match the model's feature count")
    model._remember_params()  # the sidecar's parameters are those it was fitted with
    return model


def _feature_set(described, n_features: int, mpath: Path, read_options=None, names=None) -> dict | None:
    """The sidecar's feature-set description (how the features were computed), checked to describe the model's
    columns: all of them, or, for a model trained on a feature subset (``read_options["features"]``: ``ids`` of a
    file ``n_features`` wide, :func:`ltr.evaluation.selection.recorded_features`), the whole file's columns, of
    which ``ids`` are the model's (named as the model names them)."""
    if described is None:
        return None
    entries = described.get("features") if isinstance(described, dict) else None
    if not isinstance(entries, list) or not entries or not all(
            isinstance(e, dict) and isinstance(e.get("scorer"), str) for e in entries):  # ltr predict's comparison
        # failed with a traceback on {"features": {...}} (trial t72)
        raise ModelFormatError(f"{mpath}: feature_set must be a feature-set description, whose 'features' list its "
                               "entries, each naming its scorer")
    columns = described.get("columns") if isinstance(described, dict) else None
    if isinstance(columns, list) and not all(isinstance(c, str) for c in columns):  # (Reranker.load failed in
        # "'int' object has no attribute 'startswith'": trial t72)
        raise ModelFormatError(f"{mpath}: feature_set's columns must be names (strings)")
    subset = (read_options or {}).get("features") if isinstance(read_options, dict) else None
    if isinstance(columns, list) and len(columns) != n_features and isinstance(subset, dict):
        try:
            ids, width = [int(i) for i in subset["ids"]], int(subset["n_features"])
        except (KeyError, TypeError, ValueError):
            ids, width = [], -1
        ok = (width == len(columns) and len(ids) == n_features and len(set(ids)) == len(ids)
              and all(1 <= i <= width for i in ids))
        if ok and names is not None:
            ok = isinstance(names, list) and [str(n) for n in names] == [str(columns[i - 1]) for i in ids]
        if not ok:
            raise ModelFormatError(f"{mpath}: feature_set must be a feature-set description naming the model's "
                                   f"{n_features} columns, or the {width if width > 0 else '?'} columns of the "
                                   "file whose read_options.features ids the model was trained on")
        return described
    if not isinstance(columns, list) or len(columns) != n_features:
        raise ModelFormatError(f"{mpath}: feature_set must be a feature-set description naming the model's "
                               f"{n_features} columns")
    return described


def _load_plain(path: Path, text: str) -> Ranker:
    engine = _sniff_engine(text)
    if engine is None and lightgbm_dump(text.lstrip()[:4096]):
        raise ModelFormatError(f"{path}: {LIGHTGBM_DUMP}")
    if engine is None:
        if path.name.endswith(".meta.json") and len(path.name) > len(".meta.json"):  # the sidecar, given by mistake
            model = path.with_name(path.name[:-len(".meta.json")])
            said = f"load {model}" if model.is_file() else f"its model, {model}, is not there"
            raise NotAModelError(f"{path}: is the sidecar of the model {model} (its settings and checksums), not a "
                                 f"model: {said}")
        raise NotAModelError(
            f"{path}: not a model ltrkit can read: {meta_path(path).name} is missing and the file is neither a "
            "LightGBM model text nor an XGBoost JSON model (save XGBoost models with .json)"
        )
    if engine == "linear":
        return _load_plain_linear(path, text)
    ensemble = _structure(engine, text, path)
    model = Ranker(engine=engine)
    model.booster_ = _booster(engine, text, path)
    model.n_features_in_ = int(ensemble.n_features)
    if ensemble.feature_names is not None:
        model.feature_names_in_ = np.asarray(ensemble.feature_names, dtype=object)
    model.best_iteration_ = int(ensemble.n_iterations)
    model.data_fingerprint_ = None
    model.fit_seconds_ = float("nan")
    model.evals_result_ = {}
    model.feature_set_ = None
    model.read_options_ = None
    model.normalizer_ = None
    model.plain_model_ = True
    model._remember_params()
    model.svmlight_columns_ = _svmlight_columns(engine, text, ensemble)
    model.training_file_ = _training_file(engine, text)
    said = []
    best = _recorded_best_iteration(engine, text)
    if best is not None and best + 1 < model.best_iteration_:
        said.append(f"its best_iteration {best} (early stopping) is not used, as Booster.predict does not use it "
                    f"(the scikit-learn estimators use the first {best + 1} rounds)")
    objective = (ensemble.objective or "").split(" ")[0]
    if objective in ("binary", "cross_entropy", "binary:logistic", "reg:logistic"):
        said.append(f"its scores are margins (raw scores): the engine's predict applies {objective}'s sigmoid, "
                    "which keeps the order")
    elif objective in ("poisson", "gamma", "tweedie", "count:poisson", "reg:gamma", "reg:tweedie", "survival:cox",
                       "survival:aft"):
        said.append(f"its scores are margins (raw scores): the engine's predict applies {objective}'s exp, which "
                    "keeps the order")
    elif objective in ("cross_entropy_lambda", "xentlambda"):
        said.append(f"its scores are margins (raw scores): the engine's predict applies {objective}'s "
                    "log(1 + exp), which keeps the order")
    elif objective == "binary:hinge":
        said.append("its scores are margins (raw scores): the engine's predict gives binary:hinge's 0 or 1, which "
                    "keeps no order within a class")
    cli_said = list(said)
    plain_said = list(said)  # (nothing of the data it scores)
    if engine == "lightgbm":  # doubles in LightGBM: a value rounded to float32 can cross a threshold
        said.append("LightGBM compares float64 values with its float64 thresholds: score it on float64 values, as "
                    "LightGBM's own reader reads a file (read_letor(dtype='float64'), or float64 arrays); a value "
                    "rounded to float32 can fall on the other side of a threshold")
        cli_said.append("LightGBM compares float64 values with its float64 thresholds: ltr predict reads DATA's "
                        "values as float64, as LightGBM's own reader does (scored on float32 values elsewhere, a "
                        "value within float32 rounding of a threshold can go the other way)")
    from ltr._dataset import placeholder_names

    named = ensemble.feature_names is not None and not placeholder_names(ensemble.feature_names)
    unknown = "the conventions it was trained with are" if named else \
        "its feature names and the conventions it was trained with are"
    head = (f"{path}: a plain {engine} model without an ltrkit sidecar; it predicts with all its "
            f"{model.best_iteration_} rounds, but {unknown} unknown")
    warnings.warn(PlainModelWarning(head + "".join("; " + s for s in said),
                                    head + "".join("; " + s for s in cli_said),
                                    head + "".join("; " + s for s in plain_said)), stacklevel=3)
    return model


def _recorded_best_iteration(engine: str, text: str) -> int | None:
    """The best iteration an XGBoost model records (its attributes, set by early stopping), or None."""
    if engine != "xgboost":
        return None
    try:
        value = json.loads(text)["learner"]["attributes"].get("best_iteration")
        return int(value) if value is not None else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _svmlight_columns(engine: str, text: str, ensemble) -> bool:
    """Whether a plain model looks trained on an engine's own reading of a 1-based svmlight file, where id ``j`` is
    column ``j`` and column 0 is empty: no split reads column 0, and (LightGBM, which records each feature's range)
    column 0 held one value. Such a model scores a LETOR file read with ``zero_based=True``."""
    if ensemble.n_features < 2 or bool((np.asarray(ensemble.feature) == 0).any()):
        return False
    if engine != "lightgbm":
        return True
    m = re.search(r"^feature_infos=(\S+)", text, flags=re.MULTILINE)
    return m is not None and m.group(1) == "none"


def _training_file(engine: str, text: str) -> str | None:
    """The training data file a LightGBM model text records (``[data: train.txt]``: the command-line program's, which
    read it with LightGBM's own reader), else None (the Python package records none, whatever it read)."""
    if engine != "lightgbm":
        return None
    m = re.search(r"^\[data: ([^\]\r\n]+)\]\r?$", text, flags=re.MULTILINE)
    return m.group(1).strip() or None if m else None


def _load_plain_linear(path: Path, text: str) -> Ranker:
    """A linear model's JSON without its sidecar: its weights and normaliser are all it needs to predict."""
    from ltr.rankers.linear import model_from_text
    from ltr.rankers.normalize import normalizer_from_dict

    booster = model_from_text(text, source=str(path))
    model = Ranker(engine="linear", objective=booster.objective)
    model.booster_ = booster
    model.n_features_in_ = booster.n_features
    model.best_iteration_ = int(booster.training.get("passes") or 1)
    model.data_fingerprint_ = None
    model.fit_seconds_ = float("nan")
    model.evals_result_ = {}
    model.feature_set_ = None
    model.read_options_ = None
    model.normalizer_ = None if booster.normalizer is None else normalizer_from_dict(booster.normalizer)
    model.plain_model_ = True
    model._remember_params()
    warnings.warn(f"{path}: a linear model without an ltrkit sidecar; it predicts with its {booster.n_features} "
                  "weights and normaliser, but its feature names are unknown", PlainModelWarning, stacklevel=3)
    return model
