"""Where a model's sidecar is (``MODEL.meta.json``), and the digest of a model text it records: beneath the
packages that read models (:mod:`ltr.rankers.sidecar` re-exports them; :mod:`ltr.trees` reads a sidecar too)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["find_meta_path", "meta_path", "not_the_checksum", "text_sha256"]


def meta_path(path: str | os.PathLike) -> Path:
    """The sidecar of a model file: ``MODEL.meta.json`` beside it; beside its target for a symlink, so that a model
    and its sidecar stay one unit however the model is reached (``current.txt -> models/v3.txt``)."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    return path.with_name(path.name + ".meta.json")


def find_meta_path(path: str | os.PathLike, text: str | None = None) -> Path:
    """The sidecar a model is read with: beside the model (:func:`meta_path`), or, for a symlink saved through
    before sidecars followed links, beside the link. Where both exist, the one whose recorded ``model_sha256`` is
    the model text's (``text``; read from ``path`` when not given); :func:`meta_path` when neither says so (its
    absence or mismatch is then reported by whoever reads it).

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> find_meta_path(os.path.join(d, "m.txt")).name
    'm.txt.meta.json'
    """
    path = Path(path)
    beside_model = meta_path(path)
    if not path.is_symlink():
        return beside_model
    beside_link = path.with_name(path.name + ".meta.json")
    if beside_link == beside_model or not beside_link.is_file():
        return beside_model
    if not beside_model.is_file():
        return beside_link
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return beside_model
    digest = text_sha256(text)
    for candidate in (beside_model, beside_link):
        try:
            if json.loads(candidate.read_text(encoding="utf-8")).get("model_sha256") == digest:
                return candidate
        except (OSError, ValueError, AttributeError):
            continue
    return beside_model


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def not_the_checksum(path: str | os.PathLike, meta: Path, sidecar_engine, text_engine: str | None) -> str:
    """What to say of a model text whose digest is not the one its sidecar ``meta`` records: the sidecar is another
    engine's (``sidecar_engine``, its ``params.engine``, against ``text_engine``, the one the text is written for),
    or, where both are the same engine, the text was changed or the sidecar is another model's, which the digest
    alone cannot tell apart. (A sidecar copied beside another model was said to be an edited model: trial t70.)"""
    if isinstance(sidecar_engine, str) and text_engine is not None and sidecar_engine != text_engine:
        return (f"{meta}: not the sidecar of {path}, which is {_ENGINE_TEXT.get(text_engine, text_engine)}: it "
                f"describes {_ENGINE_MODEL.get(sidecar_engine, sidecar_engine + ' model')}; put the model's own "
                f"sidecar there, or move this one away to read {Path(path).name} without one")
    return (f"{path}: the model text does not match the checksum in {meta.name}; the file was truncated or edited "
            f"after saving, or {meta.name} is another model's (saved over by a model without its sidecar, or copied "
            "beside this one)")


_ENGINE_TEXT = {"lightgbm": "LightGBM model text", "xgboost": "an XGBoost JSON model",
                "linear": "an ltrkit linear model"}
_ENGINE_MODEL = {"lightgbm": "a LightGBM model", "xgboost": "an XGBoost model", "linear": "a linear model"}
