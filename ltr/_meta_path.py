"""Where a model's sidecar is (``MODEL.meta.json``), and the digest of a model text it records: beneath the
packages that read models (:mod:`ltr.rankers.sidecar` re-exports them; :mod:`ltr.trees` reads a sidecar too)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["find_meta_path", "meta_path", "text_sha256"]


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
