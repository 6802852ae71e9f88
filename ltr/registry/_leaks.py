"""Folds that leak: a registered set's official fold whose train, vali and test files share query ids.

The sets' own documentation splits the queries of each fold (MSLR: "three parts for training, one part for
validation, and the remaining part for test"; LETOR 4.0 likewise over S1..S5), so a shared query id means a
mis-assembled copy (a test file that is a copy of the training file, say) and a cross-validated score measured on
training queries. Only the ``qid:`` column is read: a set of ids per file, in one regular-expression pass.
``ltr data verify`` and ``ltr cv --dataset`` check the sets of several folds (cross-validation folds split the
queries: LETOR 3.0's OHSUMED too) and those whose entries document their one split as a rotation of query segments
(``[layout.fold_segments]``); the other entries (one split) state nothing about their query ids across files.
``ltr cv FOLDER`` checks a fold folder of the user's own the same way, and that no query is tested by two folds
(:func:`query_in_two_tests`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

__all__ = ["fold_leak", "query_ids", "query_in_two_tests"]

_QID = re.compile(rb"^[ \t]*[^\s#]+[ \t]+qid:([^\s#]+)", re.MULTILINE)
_CHUNK = 1 << 24


def query_ids(path: str | Path) -> dict[bytes, None]:
    """The query ids of a LETOR file (``label qid:Q ...`` lines), in the order they first occur.

    Raises
    ------
    LetorFormatError
        A compressed file whose stream is cut or damaged (a download cut short), in the LETOR reader's words: this
        read comes before the reader's (``ltr cv``'s leak checks), and an ``EOFError`` escaped it as a traceback
        (trial t65).
    """
    import lzma
    import zlib

    from ltr.exceptions import LetorFormatError
    from ltr.io.files import compression, open_binary, open_raw

    out: dict[bytes, None] = {}
    with open_binary(path, "LETOR file") as f:  # gzip, bzip2 or xz by their magic bytes, as the reader opens them
        rest = b""
        try:
            while chunk := f.read(_CHUNK):
                chunk = rest + chunk
                cut = chunk.rfind(b"\n") + 1
                chunk, rest = chunk[:cut], chunk[cut:]
                out.update(dict.fromkeys(_QID.findall(chunk)))
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:  # gzip.BadGzipFile, StreamError: OSErrors
            with open_raw(path, "LETOR file") as raw:
                kind = compression(raw.read(6))
            if kind is None:  # a plain file's read error (EIO) is the OS's, named by it
                raise
            said = "not a valid gzip file" if kind == "gzip" else "cannot read file: not a valid compressed stream"
            raise LetorFormatError(f"{said} ({exc})", str(path)) from None  # (ltr.io.letor, ltr.io.files.read_bytes)
        out.update(dict.fromkeys(_QID.findall(rest)))
    return out


def fold_leak(fold: str, files: dict[str, str | Path | None], root: str | Path | None = None, *,
              read: Callable[[str | Path], dict[bytes, None]] = query_ids) -> str | None:
    """The first pair of ``files`` (split -> path, in train, vali, test order) that share a query id, as one
    sentence naming ``fold``, both files (relative to ``root`` when given) and the first shared id (in the first
    file's order); None when the splits are disjoint. ``read``: how a file's query ids are read (a cache of
    :func:`query_ids` where the caller reads them for another check too)."""
    ids = {split: read(p) for split, p in files.items() if p is not None}
    shown = {split: Path(p).relative_to(root).as_posix() if root is not None else str(p)
             for split, p in files.items() if p is not None}
    names = list(ids)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = next((q for q in ids[a] if q in ids[b]), None)
            if shared is not None:
                return (f"{fold}: {shown[a]} ({a}) and {shown[b]} ({b}) share query ids, the first qid:"
                        f"{shared.decode('latin-1')}; a fold's train, vali and test hold different queries, so "
                        "this copy leaks test queries into training")
    return None


def query_in_two_tests(tests: dict[str, str | Path]) -> str | None:
    """The first query id that two folds' test files (fold name -> path) both hold, as one sentence naming both
    folds; None when every query is tested once (cross-validation scores each query by one model)."""
    seen: dict[bytes, str] = {}
    for fold, path in tests.items():
        for q in query_ids(path):
            if q in seen and seen[q] != fold:
                return (f"query qid:{q.decode('latin-1')} is in the test files of {seen[q]} and {fold} ({path}): "
                        "cross-validation tests each query once, by the one fold that did not train on it")
            seen.setdefault(q, fold)
    return None

