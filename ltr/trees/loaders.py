"""Ensembles from a model file, a model text of either engine, or a trained booster."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from ltr.exceptions import ModelFormatError
from ltr.io.files import checked_path
from ltr.io.outputs import reading_together
from ltr.trees.lightgbm_text import from_lightgbm_text
from ltr.trees.model import TreeEnsemble
from ltr.trees.xgboost_json import from_xgboost_json

__all__ = ["LIGHTGBM_DUMP", "from_booster", "from_model_text", "lightgbm_dump", "load", "refuse_compressed",
           "ubjson_as_json"]


def from_model_text(text: str | bytes, *, source: str | None = None) -> TreeEnsemble:
    """LightGBM model text or XGBoost JSON, told apart by the first character (``t`` or ``{``); or XGBoost's UBJSON
    bytes (what ``Booster.save_raw()`` gives by default).

    Raises
    ------
    ModelFormatError
        Neither format, or a malformed model of either.
    """
    if isinstance(text, (bytes, bytearray)):
        converted = ubjson_as_json(bytes(text), source)
        if converted is not None:
            text = converted
    head = text[:64].lstrip()
    if isinstance(head, (bytes, bytearray)):
        head = head.decode("utf-8", errors="replace")
    if head.startswith("{"):
        if lightgbm_dump(head):
            raise ModelFormatError(f"{source if source is not None else 'model text'}: {LIGHTGBM_DUMP}")
        linear = re.match(r'\{\s*"format"\s*:\s*"(ltrkit-linear/[^"]*)"', head)
        if linear:  # the trees' own "$.learner: is missing" said nothing of what the file is (trial t52)
            where = source if source is not None else "model text"
            raise ModelFormatError(f"{where}: an ltrkit linear model ({linear.group(1)}), not a tree ensemble: "
                                   f"ltr.load_model({where!r}) reads and scores it")
        return from_xgboost_json(text, source=source)
    if head.startswith("tree"):
        return from_lightgbm_text(text, source=source)
    where = source if source is not None else "model text"
    if not head:  # (trial t56: "it starts with ''")
        raise ModelFormatError(f"{where}: empty, not a model")
    if "\ufffd" in head or any(ord(c) < 32 and c not in "\t\r\n" for c in head):
        raise ModelFormatError(f"{where}: binary data, neither LightGBM model text nor XGBoost JSON or UBJSON (an "
                               "XGBoost model saved before 1.6 in its binary format reads so: load it with the "
                               "XGBoost that wrote it and save it as JSON, model.save_model('model.json'))")
    short = text.strip() if isinstance(text, str) and len(text) < 4096 else ""
    path_like = source is None and short and "\n" not in short and Path(short).suffix
    hint = f": a file name? ltr.trees.load({short!r}) reads a file" if path_like else ""
    raise ModelFormatError(f"{where}: neither LightGBM model text (first line 'tree') nor XGBoost JSON "
                           f"(starting with '{{'); it starts with {head[:20]!r}{hint}")


#: What to do with a LightGBM model dumped as JSON.
LIGHTGBM_DUMP = ("a LightGBM model dumped as JSON (Booster.dump_model()), which LightGBM itself does not load: save "
                 "the model as text (Booster.save_model('model.txt'))")


def lightgbm_dump(head: str) -> bool:
    """Whether JSON text starting with ``head`` is LightGBM's ``dump_model()`` (``{"name":"tree","version":...``)."""
    return re.match(r'\{\s*"name"\s*:\s*"tree"\s*,\s*"version"\s*:', head) is not None


def ubjson_as_json(raw: bytes, source: str | None = None) -> str | None:
    """An XGBoost model in UBJSON (what ``save_model`` writes for any name but ``.json``) as JSON text, read by
    :mod:`ltr.trees.ubjson` (XGBoost's own reader crashes the process on a file cut short); None for bytes that do
    not start as UBJSON.

    Raises
    ------
    ModelFormatError
        The bytes start as UBJSON but are not a whole UBJSON value (cut short or damaged); or they are XGBoost's old
        binary format (``binf``), which XGBoost 3.1 and later no longer read either.
    """
    from ltr.trees import ubjson

    where = source if source is not None else "model"
    if raw.startswith(b"binf"):
        raise ModelFormatError(
            f"{where}: an XGBoost model in the old binary format ('binf': deprecated in XGBoost 1.6, removed in 3.1), "
            "which ltrkit does not read: load it with the XGBoost that wrote it (before 3.1) and save it as JSON "
            "(booster.save_model('model.json'))")
    if not ubjson.is_ubjson(raw):
        return None
    try:
        value = ubjson.loads(raw)
    except ubjson.UBJSONError as e:
        raise ModelFormatError(f"{where}: an XGBoost UBJSON model (binary JSON) that is cut short or damaged: "
                               f"{e}") from None
    return json.dumps(value)


_UNPACK = {"gzip": "gunzip -k", "bzip2": "bunzip2 -k", "xz": "unxz -k"}


def refuse_compressed(data: bytes, path: str | os.PathLike) -> None:
    """Raise :class:`~ltr.exceptions.NotAModelError` naming the file when ``data`` (its first bytes will do) is
    gzip, bzip2 or xz compressed: a model file is read as its engine saved it (the engines read no compressed model
    either); a caller trying other readers (``ltr info``: a compressed LETOR file) goes on to them."""
    from ltr.exceptions import NotAModelError
    from ltr.io.files import compression

    kind = compression(bytes(data[:6]))
    if kind is not None:
        raise NotAModelError(f"{path}: {kind}-compressed: a model file is read as saved; decompress it first "
                               f"({_UNPACK[kind]} FILE)")


def load(path: str | os.PathLike) -> TreeEnsemble:
    """Read and validate a LightGBM (``.txt``) or XGBoost model file (JSON, or UBJSON, read by
    :mod:`ltr.trees.ubjson`). A model ltrkit saved is checked against the checksum its sidecar (``MODEL.meta.json``)
    keeps, as :func:`ltr.load_model` checks it, and what the sidecar records that the trees alone do not apply (a
    normaliser, a feature subset, a best iteration, the reader options its data was read with) is warned of.

    Raises
    ------
    ModelFormatError
        The file is missing, unreadable, malformed or of an unsupported kind, or an ltrkit model whose text is not
        the one its sidecar's checksum was taken of; the message names it.
    """
    from ltr._meta_path import find_meta_path

    path = Path(checked_path(path))
    with reading_together(path.resolve().parent):  # the pair as one save left it (a save renames the two in under
        try:  # the folder's exclusive lock: read one by one, a load met one save's text beside another's sidecar)
            data = path.read_bytes()
        except OSError as e:  # missing, a folder, no permission, a symlink loop, a name too long
            raise ModelFormatError(f"{path}: cannot read the model file ({e.strerror or e})") from e
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # UBJSON: ltrkit saves its models as text
            text = None
        meta = find_meta_path(path, text)
        try:
            said = meta.read_text(encoding="utf-8")
        except FileNotFoundError:  # no sidecar: not a model ltrkit saved (or saved without its sidecar)
            said = None
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
            raise ModelFormatError(f"{meta}: cannot read the model's ltrkit sidecar ({reason})") from None
    refuse_compressed(data, path)
    converted = ubjson_as_json(data, str(path))  # UBJSON: what XGBoost >= 2.1 writes for any name but .json
    ensemble = from_model_text(converted if converted is not None else data, source=str(path))
    if said is None:
        _warn_of_own_best_iteration(path, text if text is not None else converted, ensemble)
    else:
        _check_sidecar(path, text, ensemble, meta, said)
    return ensemble


def _check_sidecar(path: Path, text: str | None, ensemble: TreeEnsemble, meta: Path, said: str) -> None:
    """The sidecar ltrkit saved with the model (``said``, read from ``meta``: ``MODEL.meta.json`` beside it, found
    through a symlink as :func:`ltr.load_model` finds it): a model text other than the one its checksum was taken of
    is refused (a digit changed in place keeps every length, and scored 1,267 of 2,874 MQ2008 rows otherwise, trial
    t54), and so is a sidecar that is there but cannot be read as one (cut short, it hid such an edit, trial t56);
    what it records that the trees alone do not apply is warned of (:func:`_sidecar_notes`). ``text``: the model
    file as text (None for UBJSON)."""
    import warnings

    from ltr._meta_path import not_the_checksum, text_sha256

    try:
        sidecar = json.loads(said)
    except ValueError as e:
        raise ModelFormatError(f"{meta}: the model's ltrkit sidecar is not valid JSON (line {e.lineno}, column "
                               f"{e.colno}: {e.msg}); it was cut short or edited: save the model again, or move "
                               "the sidecar away to read the trees alone") from None
    except RecursionError:  # (a bare RecursionError, naming no file: trial t72, as ltr.load_model said it)
        raise ModelFormatError(f"{meta}: the model's ltrkit sidecar is JSON nested too deeply") from None
    if not isinstance(sidecar, dict):
        raise ModelFormatError(f"{meta}: the model's ltrkit sidecar is not a JSON object; save the model again, or "
                               "move the sidecar away to read the trees alone")
    digest = sidecar.get("model_sha256")
    params = sidecar.get("params")
    if isinstance(digest, str) and text is not None and text_sha256(text) != digest:
        raise ModelFormatError(not_the_checksum(path, meta, params.get("engine") if isinstance(params, dict) else None,
                                                ensemble.engine))
    _name_columns(ensemble, sidecar.get("feature_names"),  # a frame's columns or fit's feature_names=: its user's
                  sidecar.get("frame_columns") is True or sidecar.get("names_given") is True)
    said, read = _sidecar_notes(sidecar.get("normalizer"), sidecar.get("read_options"), sidecar.get("best_iteration"),
                                ensemble, params.get("engine") if isinstance(params, dict) else None)
    if said or read:
        applied = (f"records {' and '.join(said)}, which the trees alone do not apply; ltr.load_model("
                   f"{str(path)!r}).predict(X) does") if said else ""
        warnings.warn(f"{path}: its ltrkit sidecar {applied}{'; it ' if said and read else ''}{read}", UserWarning,
                      stacklevel=3)


def _name_columns(ensemble: TreeEnsemble, names, from_frame: bool) -> None:
    """The feature names an ltrkit model records, for the ensemble's own (LightGBM's placeholders ``Column_k``,
    XGBoost's none: Ranker.fit gives the engines arrays), so that a frame of its columns in another order is refused
    as ``ltr.load_model``'s predict refuses it; it was scored by position, off by up to 0.71 on MQ2008 (trial t55).
    The names of the DataFrame it was fitted on (``from_frame``), or of its data (a LETOR file's header, ``ltr
    features``, ``fit(feature_names=...)``: they were not applied, 431 of 600 rows of a reordered frame scored
    wrong; trial t59), each checked as ``ltr.load_model`` checks them (``TreeEnsemble._names_from``)."""
    names = list(names) if names is not None and not isinstance(names, (str, dict)) else None  # (an ndarray too)
    if names is not None and len(names) == ensemble.n_features:
        object.__setattr__(ensemble, "feature_names", tuple(str(s) for s in names))
        object.__setattr__(ensemble, "_names_from", "frame" if from_frame else "data")


def _warn_of_own_best_iteration(path: Path, text: str | None, ensemble: TreeEnsemble) -> None:
    """An XGBoost model early-stopped by XGBoost records its best iteration (``attributes.best_iteration``), which
    ``Booster.predict`` does not use and XGBoost's scikit-learn estimators do: the trees score every round, as the
    former, said so (``ltr.load_model`` says it; trial t54). ``text``: the model's JSON (a UBJSON model's as
    converted; it was silent, trial t56)."""
    if ensemble.engine != "xgboost" or text is None:
        return
    found = re.search(r'"best_iteration"\s*:\s*"?(\d+)', text)
    best = int(found.group(1)) if found else None
    if best is not None and best + 1 < ensemble.n_iterations:
        import warnings

        warnings.warn(f"{path}: its best_iteration {best} (early stopping) is not used, as Booster.predict does not "
                      f"use it: the trees score all {ensemble.n_iterations} rounds; predict(X, n_iter={best + 1}) "
                      "scores the rounds XGBoost's scikit-learn estimators use", UserWarning, stacklevel=4)


def _warn_of_best_rounds(what: str, rounds: int, ensemble: TreeEnsemble) -> None:
    """An early-stopped booster (``rounds`` of its rounds up to the best, 0 when not early-stopped) given to
    :func:`from_booster`: the trees keep every round, where LightGBM's ``predict`` and XGBoost's scikit-learn
    estimators score up to the best (every row of MQ2008 scored otherwise, silently, trial t56)."""
    if 0 < rounds < ensemble.n_iterations:
        import warnings

        uses = ("LightGBM's predict uses (up to the best)" if ensemble.engine == "lightgbm" else
                "XGBoost's scikit-learn estimators use (its Booster.predict scores all)")  # (trial t61: one text)
        warnings.warn(f"{what} was early-stopped at round {rounds} of {ensemble.n_iterations}: the trees score all "
                      f"{ensemble.n_iterations} rounds; predict(X, n_iter={rounds}) scores the rounds {uses}",
                      UserWarning, stacklevel=4)


def _sidecar_notes(normalizer, read_options, best, ensemble: TreeEnsemble,
                   engine: str | None) -> tuple[list[str], str]:
    """What an ltrkit model applies that its trees alone do not, one phrase each: a normaliser, a feature subset of
    the data's columns, a best iteration short of the last (trial t52: a model trained with --normalize zscore
    scored raw features through the trees, 155 of 156 MQ2008 queries ordered otherwise than ltr predict's); and,
    apart, the reader options its data was read with that change the values X holds (``missing``, ``zero_based``,
    and ``sparse`` for XGBoost, which reads an absent entry as missing: 146 of 156 queries otherwise, trial t54),
    which X must be read with ("" when none)."""
    from ltr.reader_options import READER_OPTIONS, recorded_value, scoring_read_options

    said = []
    if normalizer:
        said.append("a normaliser of the features (--normalize)")
    options = read_options if isinstance(read_options, dict) else {}
    subset = options.get("features")
    if isinstance(subset, dict) and isinstance(subset.get("ids"), list) and subset["ids"]:
        ids = subset["ids"]
        said.append(f"a subset of the data's columns (ids {', '.join(map(str, ids[:5]))}{', ...' * (len(ids) > 5)})")
    read = [READER_OPTIONS[key].python(recorded_value(key, options)) for key in scoring_read_options(engine)
            if key in options]
    if isinstance(best, int) and not isinstance(best, bool) and 0 < best < ensemble.n_iterations:
        said.append(f"its best iteration, {best} of {ensemble.n_iterations} (predict(X, n_iter={best}))")
    if not read:
        return said, ""
    nan = ", and NaN for the entries the file leaves out" if options.get("sparse") is True else ""
    return said, (f"records that its data was read with {', '.join(read)}: read X so (read_letor(PATH, "
                  f"{', '.join(read)}){nan})")


def from_booster(booster: Any) -> TreeEnsemble:
    """The ensemble of a trained ``lightgbm.Booster`` or ``xgboost.Booster`` (or an estimator wrapping one).

    All boosting rounds are kept; pass ``n_iter`` to :meth:`TreeEnsemble.predict` for the best iteration (an
    early-stopped booster's is warned of: LightGBM's ``predict`` and XGBoost's scikit-learn estimators use it).
    """
    if hasattr(booster, "normalizer_") and hasattr(booster, "booster_"):  # an ltr.Ranker, fitted or loaded
        ensemble = _from_engine(booster.booster_, best_said=False)  # the Ranker's own best iteration is said below
        _name_columns(ensemble, getattr(booster, "feature_names_in_", None),
                      getattr(booster, "_fitted_on_frame", False) or getattr(booster, "_names_given", False))
        said, read = _sidecar_notes(booster.normalizer_, getattr(booster, "read_options_", None),
                                    getattr(booster, "best_iteration_", None), ensemble,
                                    getattr(booster, "engine", None))
        if said or read:
            import warnings

            applied = (f"applies {' and '.join(said)}, which the trees alone do not apply (ranker.predict(X) does; "
                       "ranker.engine_input(X) gives the rows as its trees read them)") if said else ""
            warnings.warn(f"the Ranker {applied}{'; it ' if said and read else ''}{read}", UserWarning, stacklevel=2)
        return ensemble
    return _from_engine(booster)


def _from_engine(booster: Any, best_said: bool = True) -> TreeEnsemble:
    """:func:`from_booster` of an engine's booster or estimator; ``best_said``: warn of an early-stopped one's best
    iteration (:func:`_warn_of_best_rounds`)."""
    missing = getattr(booster, "missing", None)  # XGBoost's scikit-learn estimators: the value read as missing
    if isinstance(missing, (int, float)) and not isinstance(missing, bool) and not math.isnan(missing):
        import warnings

        warnings.warn(f"the estimator reads X == {missing!r} as missing (missing={missing!r}); the trees read NaN as "
                      f"missing: score X with its {missing!r} entries replaced by NaN for the estimator's scores",
                      UserWarning, stacklevel=3)
    for unwrap in ("get_booster", "booster_"):  # scikit-learn wrappers and ltr.Ranker
        if not (hasattr(booster, "model_to_string") or hasattr(booster, "save_raw")) and hasattr(booster, unwrap):
            inner = getattr(booster, unwrap)
            booster = inner() if callable(inner) and unwrap == "get_booster" else inner
    if hasattr(booster, "model_to_string"):
        ensemble = from_lightgbm_text(booster.model_to_string(num_iteration=-1), source="lightgbm.Booster")
        best = getattr(booster, "best_iteration", 0)  # a count of rounds; 0 when not early-stopped
        if best_said:
            _warn_of_best_rounds("the LightGBM booster", best if isinstance(best, int) else 0, ensemble)
        return ensemble
    if hasattr(booster, "save_raw"):
        ensemble = from_xgboost_json(booster.save_raw(raw_format="json"), source="xgboost.Booster")
        best = getattr(booster, "best_iteration", None)  # the 0-based round; absent when not early-stopped
        if best_said:
            _warn_of_best_rounds("the XGBoost booster", best + 1 if isinstance(best, int) else 0, ensemble)
        return ensemble
    raise TypeError(f"expected a LightGBM or XGBoost booster (or an estimator with one), got {type(booster).__name__}")
