"""UBJSON (Universal Binary JSON, draft 12, https://ubjson.org) read into Python values: XGBoost's binary model
format (what ``save_model`` writes for any name but ``.json``).

Written here rather than handed to XGBoost, whose reader ends the process with a segmentation fault on a file cut
short (XGBoost 3.2, a model cut at half its length), and rather than taken from py-ubjson, which has had no release
since 2020 and reads XGBoost's typed arrays one element at a time. Every length is checked against the bytes left,
so that a damaged file is a :class:`UBJSONError` naming the byte, never a crash or a huge allocation.
"""

from __future__ import annotations

import json
import re

import numpy as np

__all__ = ["UBJSONError", "is_ubjson", "loads"]

#: Numeric markers and their big-endian layouts.
_NUMBERS = {ord("i"): ">i1", ord("U"): ">u1", ord("I"): ">i2", ord("l"): ">i4", ord("L"): ">i8", ord("d"): ">f4",
            ord("D"): ">f8"}
_LENGTHS = (ord("i"), ord("U"), ord("I"), ord("l"), ord("L"))  # the markers a length or count may take
_MAX_DEPTH = 128  # XGBoost's models nest a few levels
_NUMBER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


class UBJSONError(ValueError):
    """Bytes that are not a whole UBJSON value: ``what`` went wrong at byte ``offset``."""

    def __init__(self, what: str, offset: int, after: str = ""):
        super().__init__(f"{what} at byte {offset}{after}")
        self.what, self.offset = what, offset


def is_ubjson(raw: bytes) -> bool:
    """Whether ``raw`` starts as a UBJSON object (``{`` then a key's length, a count or a type), as opposed to JSON
    text (``{`` then white space, a quote or ``}``)."""
    return len(raw) >= 2 and raw[0] == ord("{") and raw[1] in (*_LENGTHS, ord("#"), ord("$"))


def loads(raw: bytes) -> object:
    """The one UBJSON value ``raw`` holds, as Python values (objects as dicts, arrays as lists, numbers as int or
    float, float32 values exactly).

    Raises
    ------
    UBJSONError
        The bytes end inside a value, hold an unknown marker, a negative or impossible length, a key twice, more than
        128 levels of nesting, invalid UTF-8 in a string, or anything after the value.
    """
    reader = _Reader(bytes(raw))
    try:
        value = reader.value(reader.marker(), 0)
    except RecursionError:  # Python's own limit, where a deep nesting reaches it before _MAX_DEPTH
        raise UBJSONError("nesting too deep", reader.pos) from None
    if reader.pos != len(reader.raw):
        raise UBJSONError("bytes after the end of the value", reader.pos)
    return value


class _Reader:
    def __init__(self, raw: bytes):
        self.raw, self.pos = raw, 0

    def take(self, n: int) -> bytes:
        if n > len(self.raw) - self.pos:
            raise UBJSONError("the file ends inside a value", len(self.raw), " (cut short?)")
        out = self.raw[self.pos:self.pos + n]
        self.pos += n
        return out

    def marker(self) -> int:
        """The next marker, no-ops (``N``) skipped."""
        while True:
            m = self.take(1)[0]
            if m != ord("N"):
                return m

    def number(self, m: int):
        layout = _NUMBERS[m]
        return np.frombuffer(self.take(int(layout[-1])), dtype=layout)[0].item()

    def length(self, m: int | None = None) -> int:
        at = self.pos
        m = self.take(1)[0] if m is None else m
        if m not in _LENGTHS:
            raise UBJSONError(f"a length must be an integer, not marker {chr(m)!r}", at)
        n = self.number(m)
        if n < 0:
            raise UBJSONError(f"a negative length ({n})", at)
        return n

    def text(self, n: int) -> str:
        at = self.pos
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise UBJSONError("a string that is not UTF-8", at) from None

    def value(self, m: int, depth: int):
        at = self.pos - 1
        if m in _NUMBERS:
            return self.number(m)
        if m == ord("S"):
            return self.text(self.length())
        if m == ord("C"):
            return self.text(1)
        if m == ord("H"):
            digits = self.text(self.length())
            if not _NUMBER_TEXT.fullmatch(digits):
                raise UBJSONError(f"a high-precision number that is not one ({digits[:40]!r})", at)
            return json.loads(digits)
        if m == ord("T"):
            return True
        if m == ord("F"):
            return False
        if m == ord("Z"):
            return None
        if m in (ord("["), ord("{")):
            if depth >= _MAX_DEPTH:
                raise UBJSONError(f"more than {_MAX_DEPTH} levels of nesting", at)
            return self.container(m == ord("{"), depth + 1)
        raise UBJSONError(f"unknown marker {chr(m)!r}" if 32 <= m < 127 else f"unknown marker byte {m}", at)

    def container(self, is_object: bool, depth: int):
        typed = count = None
        if self.pos < len(self.raw) and self.raw[self.pos] == ord("$"):
            self.pos += 1
            typed = self.take(1)[0]
            if self.pos >= len(self.raw) or self.raw[self.pos] != ord("#"):
                raise UBJSONError("a typed container without a count ('$' needs '#')", self.pos)
        if self.pos < len(self.raw) and self.raw[self.pos] == ord("#"):
            self.pos += 1
            count = self.length()
        if not is_object and typed in _NUMBERS:  # XGBoost's arrays of numbers: read at once
            layout = _NUMBERS[typed]
            size = int(layout[-1])
            if count > (len(self.raw) - self.pos) // size:
                raise UBJSONError(f"an array of {count} numbers longer than the file", self.pos)
            return np.frombuffer(self.take(count * size), dtype=layout).tolist()
        if count is not None and typed not in (ord("T"), ord("F"), ord("Z")) and count > len(self.raw) - self.pos:
            raise UBJSONError(f"a container of {count} values longer than the file", self.pos)
        if count is not None and count > 1 << 27:  # values without bytes (typed true/false/null): bounded anyway
            raise UBJSONError(f"a container of {count} values", self.pos)
        out: dict | list = {} if is_object else []
        i = 0
        while count is None or i < count:
            if is_object:
                while self.raw[self.pos:self.pos + 1] == b"N":
                    self.pos += 1
                at = self.pos
                if count is None and self.take(1)[0] == ord("}"):
                    return out
                if count is None:
                    self.pos -= 1
                key = self.text(self.length())
                if key in out:
                    raise UBJSONError(f"the key {key!r} twice in one object", at)
                out[key] = self.value(self.marker() if typed is None else typed, depth)
            else:
                m = self.marker() if typed is None else typed
                if count is None and m == ord("]"):
                    return out
                out.append(self.value(m, depth))
            i += 1
        return out
