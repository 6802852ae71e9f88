"""Values in JSON's own types, the one conversion every JSON the toolkit writes goes through.

Two uses, two functions: :func:`python_values` for what is recorded and read back (a model's parameters, an
engine's parameter dict: NumPy scalars and arrays as Python values, NaN kept, so a refused value still fails where
it is written), and :func:`strict_json` for results (metrics, significance tests, summaries: non-finite numbers as
``null``, as strict JSON requires and as pandas' ``to_json`` writes them).

NumPy is never imported here: when it is not loaded, no NumPy value can exist (the command line starts without
it, so that an early Ctrl-C is caught).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["python_values", "strict_json"]


def _numpy_value(obj: Any, np) -> tuple[bool, Any]:
    """(True, the Python value) for a NumPy scalar or array, else (False, None)."""
    if np is not None and isinstance(obj, (np.generic, np.ndarray)):
        return True, obj.tolist()
    return False, None


def python_values(obj: Any) -> Any:
    """``obj`` with NumPy scalars and arrays as Python values, recursively through mappings (as dicts, their NumPy
    keys as Python values too: ``json.dumps`` refuses a NumPy key), lists and tuples (kept as tuples); every other
    value as it is, NaN and infinities included.

    >>> import numpy as np
    >>> python_values({"seed": np.int64(3), "eval_at": np.array([5, 10]), "missing": float("nan")})
    {'seed': 3, 'eval_at': [5, 10], 'missing': nan}
    >>> python_values({np.int64(1): np.float32(0.5)})
    {1: 0.5}
    """
    np = sys.modules.get("numpy")

    def walk(v):
        is_np, value = _numpy_value(v, np)
        if is_np:
            return value
        if isinstance(v, Mapping):
            return {walk(k): walk(x) for k, x in v.items()}  # a key is hashable: a NumPy scalar, never an array
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, tuple):
            return tuple(walk(x) for x in v)
        return v

    return walk(obj)


def strict_json(obj: Any) -> Any:
    """``obj`` ready for ``json.dumps(..., allow_nan=False)``: :func:`python_values`, then NaN and infinities as
    None, tuples as lists and mapping keys as strings, recursively.

    >>> import numpy as np
    >>> strict_json({"ndcg@10": np.float64("nan"), 1: (np.int32(2), float("inf")), "ok": np.bool_(True)})
    {'ndcg@10': None, '1': [2, None], 'ok': True}
    """

    def walk(v):
        if isinstance(v, Mapping):
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        return v

    return walk(python_values(obj))
