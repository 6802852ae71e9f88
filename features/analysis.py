"""Text analysis: tokenise, lowercase, drop stopwords, stem.

An :class:`Analyzer` is a small immutable record of settings; the same settings are saved with an index
(:meth:`Analyzer.to_dict`) so that queries are analysed exactly as the documents were. Stemming goes through
PyStemmer (the Snowball project's C stemmers): ``"porter"`` is Porter's 1980 algorithm, ``"english"`` is Porter2.
Tokens of one or two characters are not stemmed (``min_stem_length=3``), as in Porter's own reference
implementation and the PorterStemmer of Lucene and Terrier: the published algorithm, which PyStemmer follows, turns
``s`` (from ``John's``) into an empty term and ``us`` into ``u``. One difference from Lucene's ``PorterStemFilter``
and Terrier's ``PorterStemmer`` remains: they are Porter's Java reference code, whose step 2 departs from the paper
with ``logi -> log`` and ``bli -> ble`` (where the paper has ``abli -> able``), so they stem ``technology`` and
``technological`` alike (``technolog``) where ``"porter"`` here keeps ``technologi``; on the shared collections
this touches 0.03-0.13% of tokens (a trial's count against a port of Terrier's stemmer) and Terrier's published NPL
figure still reproduces.

Presets:

- ``Analyzer()``: Unicode word tokens (``\\w+``, with the combining marks that follow a letter: see
  ``keep_marks``; Chinese and Japanese split as below: see ``split_cjk``), lowercase, Lucene's 33 English
  stopwords, Porter stemming: the analysis of Anserini's default ``EnglishAnalyzer``-style indexes.
- ``Analyzer.terrier()``: Terrier's default ``EnglishTokeniser`` + ``Stopwords,PorterStemmer`` pipeline (ASCII
  letters and digits of the text as written, tokens over 20 characters, with more than 4 digits or with more than 3
  identical characters in a row dropped, then lowercased: ``lowercase_first=False``; Terrier's 733-word stopword
  list).

Word boundaries. Lucene's ``StandardTokenizer`` implements the word boundaries of Unicode Standard Annex #29
(UAX #29, "Unicode Text Segmentation"); ``Analyzer()`` follows them where they decide which letters form a word:

- Latin, Greek, Cyrillic, Hangul and other alphabets: runs of letters and digits, with their combining marks
  (``keep_marks``) and joined by ``_`` (UAX #29 WB4, WB5, WB8-WB10, WB13a/b).
- Han ideographs (Chinese characters, Japanese kanji, including ``々``) and Hiragana: each character one token
  (Lucene's ``<IDEOGRAPHIC>`` and ``<HIRAGANA>`` tokens; UAX #29 has no rule that joins them): ``東京大学の研究``
  gives ``東 京 大 学 の 研 究``, so a query ``研究`` matches a document holding the two characters (as unigrams).
- Katakana: runs (WB13, ``<KATAKANA>``), split from adjacent letters and digits: ``アイスcream`` gives
  ``アイス cream``. Hangul syllables are letters (``<HANGUL>`` runs, joined to adjacent Latin letters as in WB5).

What still differs from ``StandardTokenizer``: emoji are dropped (Lucene keeps them as ``<EMOJI>`` tokens);
apostrophes, periods and other mid-word punctuation split words and numbers (``John's`` gives ``john s``, ``U.S.A.``
``u s a``, ``2.5`` ``2 5``, where WB6/WB7 and WB11/WB12 keep ``john's``, ``u.s.a``, ``2.5``); no 255-character token
limit. Lucene's ``CJKAnalyzer`` (overlapping bigrams) is not offered.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["Analyzer", "STOPWORD_LISTS", "TOKEN_MEMO_LIMIT", "load_stopwords"]

# Characters whose word boundaries differ from ``\w+`` runs (Unicode 14, the version of Python 3.11's unicodedata;
# from Scripts.txt and WordBreakProperty.txt). Han and Hiragana are Lucene's ``\p{Script:Han}`` and
# ``\p{Script:Hiragana}``: one token per character. Katakana is ``\p{WB:Katakana}`` (with the prolonged sound mark
# ``ー`` and the halfwidth forms): runs. ExtendNumLet (``_`` and the other connector punctuation) joins a Katakana run
# to letters and digits (WB13a/b). U+FF9E/FF9F (halfwidth voiced sound marks) are WB Extend: they stay with the kana
# before them, as combining marks do.
_HAN_HIRAGANA = ("\u2e80-\u2e99\u2e9b-\u2ef3\u2f00-\u2fd5\u3005\u3007\u3021-\u3029\u3038-\u303b\u3400-\u4dbf"
                 "\u4e00-\u9fff\uf900-\ufa6d\ufa70-\ufad9\U00016fe2-\U00016fe3\U00016ff0-\U00016ff1"
                 "\U00020000-\U0002a6df\U0002a700-\U0002b738\U0002b740-\U0002b81d\U0002b820-\U0002cea1"
                 "\U0002ceb0-\U0002ebe0\U0002f800-\U0002fa1d\U00030000-\U0003134a"  # Han
                 "\u3041-\u3096\u309d-\u309f\U0001b001-\U0001b11f\U0001b150-\U0001b152\U0001f200")  # Hiragana
_KATAKANA = ("\u3031-\u3035\u309b-\u309c\u30a0-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u32d0-\u32fe\u3300-\u3357"
             "\uff66-\uff9d\U0001aff0-\U0001aff3\U0001aff5-\U0001affb\U0001affd-\U0001affe\U0001b000"
             "\U0001b120-\U0001b122\U0001b164-\U0001b167")
_EXTEND_NUM_LET = "_\u202f\u203f-\u2040\u2054\ufe33-\ufe34\ufe4d-\ufe4f\uff3f"


@functools.lru_cache(maxsize=1)
def _cjk_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(any Han, Hiragana or Katakana character; the UAX #29 pieces of one token that holds one), built once."""
    i, k, e, m = _HAN_HIRAGANA, _KATAKANA, _EXTEND_NUM_LET, _mark_class() + "\uff9e\uff9f"
    x = f"[^{i}{k}{e}{m}]"  # any other character of a token: letters, digits (of any alphabet, Hangul included)
    block = f"(?:[{k}][{k}{m}]*|{x}(?:{x}|[{m}])*)"  # a Katakana run, or a run of the rest; never one after the other
    piece = f"[{i}][{m}]*|[{e}{m}]*{block}(?:[{e}]+{block})*[{e}]*|[{e}{m}]+"
    return re.compile(f"[{i}{k}]"), re.compile(piece)


@functools.lru_cache(maxsize=1)
def _mark_class() -> str:
    """The combining marks (categories Mn, Mc, Me) as a regular-expression character class body of ranges (built
    once per process, on first use: about 0.1 s)."""
    import sys

    ranges: list[list[int]] = []
    for c in range(sys.maxunicode + 1):
        if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


def _with_marks(token_pattern: str) -> str:
    """``token_pattern`` whose matches combining marks join (``keep_marks``): a token is the pattern's matches and
    runs of marks in turn, as ``(?:PATTERN|[marks])+`` made them, except that two matches that merely touch stay two
    tokens (``[a-z]+|[0-9]+`` cuts ``mach2`` in two, as ``re.findall`` does; they were glued: trial t57). Marks that
    lead a token stay in it (Bengali's virama after a zero-width joiner: ``্যাব``). Global inline flags (``(?u)``,
    ``(?i)``) stay in front, where Python's re wants them; a verbose pattern's comment ends before the wrapper
    goes on."""
    flags = re.match(r"(?:\(\?[aiLmsux]+\))*", token_pattern).group(0)
    body = token_pattern[len(flags):] + ("\n" if "x" in flags else "")
    marks = f"[{_mark_class()}]+"
    # a token holds a match of the pattern: a run of marks alone (U+FE0F of every emoji written in emoji
    # presentation, a stray accent) made one shared term, by which ✔️ matched ❤️ (trial t72)
    return f"{flags}(?:(?:{body})|{marks}(?:{body}))(?:{marks}(?:{body})?)*"  # the pattern tried first: faster


#: Named stopword lists shipped in ``features/data`` (``stopwords_<name>.txt``).
STOPWORD_LISTS = ("lucene", "terrier")

#: The most tokens an analyzer memoises (token -> term; about 75 MB): a long-running service meets new tokens for
#: ever (its memory grew by about 290 bytes a new token), so the memo starts again when full.
TOKEN_MEMO_LIMIT = 1 << 18


def load_stopwords(spec: str | Path | Iterable[str] | None) -> frozenset[str]:
    """A stopword set from a shipped list name, a file or an iterable of words (lowercased).

    A file holds one entry a line, a line starting with ``#`` a comment (Lucene's plain word lists); a file that
    uses ``|`` is in Snowball's format, as Snowball's stop lists and Lucene's and Solr's copies of them
    (``format="snowball"``) write it: the rest of a line after ``|`` is a comment, and a line may hold several words
    (``i  | subject, always ...``).

    Examples
    --------
    >>> len(load_stopwords("lucene")), len(load_stopwords(None)), sorted(load_stopwords(["B", "a"]))
    (33, 0, ['a', 'b'])
    """
    if spec is None:
        return frozenset()
    if isinstance(spec, str) and spec in STOPWORD_LISTS:
        text = resources.files("features").joinpath("data", f"stopwords_{spec}.txt").read_text(encoding="utf-8")
    elif isinstance(spec, (str, Path)):
        p = Path(spec)
        if not p.is_file():
            raise ValueError(f"stopwords must be one of {STOPWORD_LISTS}, a file, or a list of words; got {spec!r}")
        from ltr.io.files import read_utf8_file  # a leading BOM dropped (Notepad's), invalid UTF-8 named

        text = read_utf8_file(p, "stopword file")
    else:
        return frozenset(str(w).strip().lower() for w in spec if str(w).strip())
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    if any("|" in line for line in lines):  # Snowball's format: words, then a '|' comment
        return frozenset(w.lower() for line in lines for w in line.split("|", 1)[0].split())
    return frozenset(line.strip().lower() for line in lines if line.strip())  # one entry a line (Lucene's plain)


@dataclass(frozen=True)
class Analyzer:
    """Tokeniser + lowercase + stopwords + stemmer, with the settings saved alongside an index.

    Parameters
    ----------
    token_pattern : str
        Regular expression whose matches are the tokens (``re.findall``); ``\\w+`` is Unicode-aware. With
        ``keep_marks``, the combining marks that follow a match continue it (and the pattern's match after them);
        two matches that touch stay two tokens. Global inline flags (``(?u)``, ``(?i)``) go at its start.
    lowercase : bool
    lowercase_first : bool, default=True
        Lowercase the text before tokenising it (True) or each token after the length, digit and repeat checks
        (False: Terrier's ``EnglishTokeniser``, which tokenises the text as written, so that ``AAAa`` is no run of
        four identical characters and a Kelvin sign ``K`` or an ``İ``, which lowercase to ASCII letters, end a
        token as any other character outside the token pattern). Settings saved without it load as True, as they
        were indexed.
    normalize : {None, "NFC", "NFKC", "NFD", "NFKD"}
        Unicode normalisation applied before tokenising.
    stopwords : str, path, iterable of str or None
        A name in :data:`STOPWORD_LISTS`, a file, or the words; matched after lowercasing, before stemming. A file
        or list is kept as its words (sorted), as a saved index keeps them.
    stemmer : str or None
        A PyStemmer algorithm (``"porter"``, ``"english"``, ``"german"``, ...) or None.
    min_length, max_length : int
        Tokens shorter / longer than these (in characters, before stemming) are dropped (``max_length=0``: no
        limit).
    max_digits : int
        Tokens with more digits than this are dropped (``-1``: no limit).
    max_repeat : int
        Tokens with more than this many identical characters in a row are dropped (``-1``: no limit).
    min_stem_length : int, default=3
        Tokens shorter than this are indexed unstemmed (module docstring). Settings saved without it (before it
        existed) load as 1: every token stemmed, as they were indexed.
    keep_marks : bool, default=True
        Combining marks (Unicode categories Mn, Mc, Me) continue a token, as Unicode's word boundaries (UAX #29,
        Lucene's StandardTokenizer) keep them: ``\\w`` alone splits Devanagari, Bengali or Thai words at every vowel
        sign (``हिन्दी`` into three letters) and ``İ`` lowercased (``i`` and a combining dot) off its word.
        Settings saved without it load as False, as they were indexed; ``Analyzer.terrier()`` sets it False
        (Terrier's tokeniser keeps ASCII letters and digits only).
    split_cjk : bool, default=True
        Tokens are cut at the word boundaries of UAX #29 for Chinese and Japanese (module docstring): each Han
        ideograph and each Hiragana character a token of its own, Katakana runs apart from letters and digits.
        Without it, ``\\w+`` makes a whole run of ideographs and kana one token (``東京大学の研究は素晴らしい``
        one term), which a query matches only whole. Text without these scripts is tokenised the same either way.
        Settings saved without it (before it existed) load as False, as they were indexed.
    fold_dotted_i : bool, default=True
        Lowercasing turns ``İ`` (U+0130) into ``i``, as Lucene's ``LowerCaseFilter`` does (Java's
        ``Character.toLowerCase``, one code point at a time), so that ``İstanbul`` and ``istanbul`` are one term;
        Python's ``str.lower`` gives ``i`` and a combining dot (U+0307, Unicode's full mapping), a term no typed
        ``i`` matches. Settings saved without it (before it existed) load as False, as they were indexed.

    Examples
    --------
    >>> Analyzer().analyze("The wings' flutter, at Mach 2.5!")
    ['wing', 'flutter', 'mach', '2', '5']
    >>> Analyzer(stemmer=None, stopwords=None).analyze("Zürich ÉCOLE")
    ['zürich', 'école']
    >>> Analyzer().analyze("東京大学のアイスcream")
    ['東', '京', '大', '学', 'の', 'アイス', 'cream']
    """

    token_pattern: str = r"\w+"
    lowercase: bool = True
    normalize: str | None = None
    lowercase_first: bool = True
    stopwords: Any = "lucene"
    stemmer: str | None = "porter"
    min_length: int = 1
    max_length: int = 0
    max_digits: int = -1
    max_repeat: int = -1
    min_stem_length: int = 3
    keep_marks: bool = True
    split_cjk: bool = True
    fold_dotted_i: bool = True
    _stopset: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            pattern = re.compile(self.token_pattern)
        except re.error as e:
            raise ValueError(f"token_pattern {self.token_pattern!r} is not a valid regular expression: {e}") from None
        if self.normalize not in (None, "NFC", "NFKC", "NFD", "NFKD"):
            raise ValueError(f"normalize must be None or a Unicode form (NFC, NFKC, NFD, NFKD), got {self.normalize!r}")
        for name, low, meaning in (("min_length", 0, "an int >= 0"), ("max_length", 0, "an int >= 0 (0: no limit)"),
                                   ("max_digits", -1, "an int >= -1 (-1: no limit)"),
                                   ("max_repeat", -1, "an int >= -1 (-1: no limit)"),
                                   ("min_stem_length", 0, "a non-negative int")):
            value = getattr(self, name)  # max_length=-1 (as -1 means no limit beside it) emptied every index
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be {meaning}, got {value!r}")
        for name in ("lowercase", "lowercase_first", "keep_marks", "split_cjk", "fold_dotted_i"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if pattern.groups:  # findall would return the groups, tuples as terms (the marks' wrapper adds none of its own)
            raise ValueError(f"token_pattern {self.token_pattern!r} has capturing groups: write (?:...) for a group "
                             "(the whole match is the token)")
        if self.keep_marks:
            pattern = re.compile(_with_marks(self.token_pattern))
        stopset = load_stopwords(self.stopwords)
        named = isinstance(self.stopwords, str) and self.stopwords in STOPWORD_LISTS
        custom = self.stopwords is not None and not named
        # a file or a list given here (not the tuple a saved index's settings, a copy or a pickle give back)
        given_list = custom and not isinstance(self.stopwords, tuple)
        if custom:
            # Keep a hashable, serialisable copy of a custom list or a file's words (not the file's name, which a
            # saved index does not keep), so the settings can be saved and compared.
            object.__setattr__(self, "stopwords", tuple(sorted(stopset)))
        if self.normalize:  # matched against tokens normalised, then lowercased: the words are, the same way
            stopset = frozenset(unicodedata.normalize(self.normalize, w) for w in stopset)
            if self.lowercase:
                stopset = frozenset(w.lower() for w in stopset)
        if self.lowercase and self.fold_dotted_i:  # the words were lowercased as str.lower does, İ to i and a dot
            # above, where the text's İ is i: a list writing İçin stopped nothing (trial t72)
            stopset = frozenset(w.replace("i\u0307", "i") for w in stopset)
        object.__setattr__(self, "_stopset", stopset)
        stem = None
        if self.stemmer is not None:
            import Stemmer  # PyStemmer

            if self.stemmer not in Stemmer.algorithms():
                raise ValueError(f"stemmer must be None or one of {Stemmer.algorithms()}, got {self.stemmer!r}")
            stem = Stemmer.Stemmer(self.stemmer)
        # Per-instance caches (never module-level state): compiled patterns, stemmer, token -> term memo. ASCII
        # text holds no combining mark, so the marks' continuation can never match there: the token pattern alone
        # finds the same tokens (Python's re tries the large mark class after every token, which took 60% of the
        # time of indexing English text).
        object.__setattr__(self, "_pattern", pattern)
        object.__setattr__(self, "_ascii_pattern", re.compile(self.token_pattern) if self.keep_marks else pattern)
        object.__setattr__(self, "_stem", stem)
        object.__setattr__(self, "_memo", {})
        if given_list:
            self._warn_unreachable_stopwords()

    def _warn_unreachable_stopwords(self) -> None:
        """Warn of the stopwords no token can equal: Snowball's English list (Lucene's and Solr's) holds 50
        contractions ("don't", "it's") that this tokeniser splits at the apostrophe, so they stopped nothing and
        their parts ("don", "t") were indexed, without a word (trial t57)."""
        split = {w: self.tokens(w) for w in sorted(self._stopset)}
        split = {w: t for w, t in split.items() if t != [w]}
        if not split:
            return
        import logging

        shown = ", ".join(f"{w!r} -> {t}" for w, t in list(split.items())[:4])
        logging.getLogger(__name__).warning(
            "stopwords: %d of the %d words can never match, as the analyzer splits them into other tokens (%s%s); "
            "their parts are not stopped (list the parts themselves to stop them)", len(split), len(self._stopset),
            shown, ", ..." if len(split) > 4 else "")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle by the settings alone (the PyStemmer object cannot be pickled): unpickling runs the constructor,
        which rebuilds the compiled pattern, the stemmer and an empty memo (process pools, joblib, Ray)."""
        return _from_settings, (type(self), {f.name: getattr(self, f.name) for f in fields(self) if f.init})

    # -- presets -----------------------------------------------------------------------------------------------------
    @classmethod
    def terrier(cls) -> Analyzer:
        """Terrier 5's default indexing pipeline (see the module docstring)."""
        return cls(token_pattern=r"[A-Za-z0-9]+", stopwords="terrier", stemmer="porter", max_length=20,
                   max_digits=4, max_repeat=3, keep_marks=False, lowercase_first=False)

    # -- analysis ----------------------------------------------------------------------------------------------------
    def term(self, token: str) -> str | None:
        """The indexed term of one raw token (as :meth:`tokens` returns it), or None when it is dropped."""
        n = len(token)
        if n < self.min_length or (self.max_length and n > self.max_length):
            return None
        if self.max_digits >= 0 and sum(c.isdigit() for c in token) > self.max_digits:
            return None
        if self.max_repeat >= 0:
            run = 1
            for a, b in zip(token, token[1:]):
                run = run + 1 if a == b else 1
                if run > self.max_repeat:
                    return None
        if self.lowercase and not self.lowercase_first:  # checked as written, then lowercased (Terrier's order)
            token = self._lower(token)
        if token in self._stopset:
            return None
        if self._stem is None or n < self.min_stem_length:
            return token
        return self._stem.stemWord(token)

    def _lower(self, text: str) -> str:
        if self.fold_dotted_i and "\u0130" in text:  # İ: i, as Lucene lowercases it (not i and a combining dot)
            text = text.replace("\u0130", "i")
        return text.lower()

    def tokens(self, text: str) -> list[str]:
        """Raw tokens (normalised and, unless ``lowercase_first`` is False, lowercased; before filtering and
        stemming)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        if self.normalize:
            text = unicodedata.normalize(self.normalize, text)
            if self.lowercase and self.fold_dotted_i and self.normalize in ("NFD", "NFKD") and "I\u0307" in text:
                text = text.replace("I\u0307", "i")  # İ decomposed: folded as _lower folds İ (trial t72)
        if self.lowercase and self.lowercase_first:
            text = self._lower(text)
        if text.isascii():  # no mark, no Han or kana (Unicode's own test, at C speed)
            return self._ascii_pattern.findall(text)
        tokens = self._pattern.findall(text)
        if self.split_cjk:
            cjk, piece = _cjk_patterns()
            if cjk.search(text):  # only tokens that hold Han, Hiragana or Katakana are cut
                tokens = [p for t in tokens for p in (piece.findall(t) if cjk.search(t) else (t,))]
        return tokens

    def analyze(self, text: str) -> list[str]:
        """The terms of ``text``, in order (stopwords and filtered tokens removed)."""
        memo = self._memo
        out = []
        for tok in self.tokens(text):
            term = memo.get(tok, 0)
            if term == 0:  # 0 marks "not memoised yet"; None marks "dropped"
                if len(memo) >= TOKEN_MEMO_LIMIT:  # a service meets new tokens for ever: start again when full
                    memo.clear()
                term = memo[tok] = self.term(tok)
            if term is not None:
                out.append(term)
        return out

    def analyze_many(self, texts: Iterable[str]) -> list[list[str]]:
        """:meth:`analyze` over a sequence."""
        return [self.analyze(t) for t in texts]

    # -- persistence -------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings; the stopword list is stored as its words (with a checksum) so that a later
        change to a shipped list cannot silently change how queries are analysed."""
        d = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        words = sorted(self._stopset)
        d["stopwords"] = words
        d["stopwords_name"] = self.stopwords if isinstance(self.stopwords, str) else None
        d["stopwords_sha256"] = hashlib.sha256("\n".join(words).encode()).hexdigest()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Analyzer:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        name = d.pop("stopwords_name", None)
        sha = d.pop("stopwords_sha256", None)
        words = d.get("stopwords") or []
        if sha is not None and hashlib.sha256("\n".join(sorted(words)).encode()).hexdigest() != sha:
            raise ValueError("analyzer settings: the stopword list does not match its checksum")
        if name in STOPWORD_LISTS and load_stopwords(name) == frozenset(words):
            d["stopwords"] = name  # the shipped list, unchanged: keep its name
        else:
            d["stopwords"] = tuple(words) if words else None
        d.setdefault("min_stem_length", 1)  # saved before the setting existed: every token was stemmed
        d.setdefault("keep_marks", False)  # likewise: marks split tokens
        d.setdefault("split_cjk", False)  # likewise: a run of ideographs and kana was one token
        d.setdefault("lowercase_first", True)  # likewise: the text was lowercased before it was tokenised
        d.setdefault("fold_dotted_i", False)  # likewise: İ was lowercased to i and a combining dot
        known = {"token_pattern", "lowercase", "normalize", "stopwords", "stemmer", "min_length", "max_length",
                 "max_digits", "max_repeat", "min_stem_length", "keep_marks", "split_cjk", "lowercase_first",
                 "fold_dotted_i"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"analyzer settings: unknown key(s) {sorted(unknown)}")
        return cls(**d)


def _from_settings(cls: type[Analyzer], settings: dict[str, Any]) -> Analyzer:
    """Unpickle an :class:`Analyzer` (:meth:`Analyzer.__reduce__`)."""
    return cls(**settings)
