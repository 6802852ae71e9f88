"""The model sidecar: its format name, its path beside the model, and the checksum that protects both files.

A saved model is ``MODEL`` (the engine's text) plus ``MODEL.meta.json``; :func:`checksum` is a SHA-256 over the
sidecar's content (all keys but the checksum itself, canonical JSON) and the model text, so an edit to either
file is detected at load time. :func:`write_model` writes both as one unit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from ltr._json import python_values
from ltr._meta_path import find_meta_path, meta_path, text_sha256

__all__ = ["MODEL_FORMAT", "OLD_FORMATS", "checksum", "find_meta_path", "meta_path", "text_sha256", "write_model"]

MODEL_FORMAT = "ltrkit-model/2"
#: Formats still read: ``ltrkit-model/1`` sidecars checksum the model text only.
OLD_FORMATS = ("ltrkit-model/1",)


def checksum(meta: dict[str, Any], text: str) -> str:
    """SHA-256 over the sidecar (without its ``checksum`` key, as canonical JSON) and the model text."""
    body = {k: v for k, v in meta.items() if k != "checksum"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return hashlib.sha256(blob + b"\n" + text.encode("utf-8")).hexdigest()


def _plain(meta: dict[str, Any], path: str | os.PathLike = "the model") -> dict[str, Any]:
    """``meta`` in JSON's own types: NumPy scalars and arrays among the parameters (``random_state=np.int64(3)``,
    ``eval_at=np.array([5, 10])``, a grid's values) become numbers and lists, so the sidecar reads back equal."""
    def default(value):
        raise TypeError(f"a model file records its parameters as JSON: cannot record {type(value).__name__} "
                        f"{value!r:.60}")

    meta = python_values(meta)
    params = meta.get("params") if isinstance(meta, dict) else None
    if isinstance(params, dict) and isinstance(params.get("eval_params"), dict):
        # no_relevant=nan (ltr train --no-relevant nan) has no strict-JSON number: written as the string 'nan',
        # which the metrics read as the number (a model so trained could not be saved, after its training)
        params["eval_params"] = {k: str(v) if isinstance(v, float) and not math.isfinite(v) else v
                                 for k, v in params["eval_params"].items()}
    where = _first_nonfinite(meta)
    if where is not None:  # (json's own words, 'Out of range float values are not JSON compliant', named nothing)
        raise ValueError(f"{os.fspath(path)}: a model file records its parameters as JSON, which has no NaN or "
                         f"infinity: cannot record {where[0]}={where[1]!r}")
    return json.loads(json.dumps(meta, default=default, allow_nan=False))


def _first_nonfinite(value: Any, where: str = "") -> tuple[str, float] | None:
    """The dotted path and value of the first NaN or infinity in ``value`` (``params.engine_params.gamma``), or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (where, value)
    if isinstance(value, dict):
        inner = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        inner = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    return next((found for path, v in inner if (found := _first_nonfinite(v, path)) is not None), None)


def ubj_refusal(engine: str | None) -> str:
    """Why a model of ``engine`` is not written under a ``.ubj`` name (every model here is text)."""
    return {"xgboost": "models are written as text (XGBoost's JSON), and XGBoost reads a '.ubj' name as binary "
                       "UBJSON: name it .json",
            "lightgbm": "a LightGBM model is written as LightGBM's text: name it .txt"}.get(
                engine or "", "a linear model is written as JSON: name it .json")


def write_model(path: str | os.PathLike, text: str, meta: dict[str, Any]) -> None:
    """Write the model text and its sidecar (with ``format``, ``model_sha256`` and ``checksum`` set), as one unit
    (:func:`ltr.io.outputs.atomic_write_together`: a failed write changes neither file)."""
    from ltr.exceptions import OutputPathError
    from ltr.io.outputs import atomic_write_together, compressed_ending, is_file_output

    meta = dict(_plain(meta, path), format=MODEL_FORMAT, model_sha256=text_sha256(text))
    meta["checksum"] = checksum(meta, text)
    path = Path(path)
    ending = compressed_ending(path.name)  # a plain text under a compressed name (trial t55; .zip: review of t64)
    if ending is not None:
        raise OutputPathError(str(path), "a model is written as plain text, which the engines read (neither reads a "
                                         f"compressed model): give a name without {ending}")
    if path.suffix.lower() == ".ubj":  # xgb.Booster(model_file=...) failed on the JSON text saved there (trial t57)
        raise OutputPathError(str(path), ubj_refusal(meta.get("engine")))
    if not is_file_output(path):  # /dev/null, a FIFO: the sidecar would land beside it, in /dev
        raise OutputPathError(str(path), "is not a regular file: a model is two files (MODEL and MODEL.meta.json); "
                                         "give a file path")
    atomic_write_together([(meta_path(path), json.dumps(meta, indent=2, sort_keys=True) + "\n"), (path, text)])
