"""Analyzer: tokenisation, stopwords, stemming through PyStemmer, Terrier's rules, persistence."""

from __future__ import annotations

import pytest
import Stemmer

from features.analysis import STOPWORD_LISTS, Analyzer, load_stopwords
from ltr._shared import import_reference


def test_default_analyzer_is_unicode_aware_lowercases_drops_lucene_stopwords_and_stems():
    a = Analyzer()
    assert a.analyze("The Wings' FLUTTER is measured") == ["wing", "flutter", "measur"]
    assert Analyzer(stemmer=None).analyze("Zürich naïve ÉCOLE") == ["zürich", "naïve", "école"]
    assert a.analyze("") == [] and a.analyze("the of and") == []


def test_stemming_is_pystemmer_porter_word_for_word():
    words = ["generalizations", "oscillators", "hypersonic", "flows", "conditional", "relational"]
    porter = Stemmer.Stemmer("porter")
    assert Analyzer(stopwords=None).analyze(" ".join(words)) == [porter.stemWord(w) for w in words]
    english = Stemmer.Stemmer("english")
    assert Analyzer(stopwords=None, stemmer="english").analyze(" ".join(words)) == english.stemWords(words)


def test_tokens_of_one_or_two_characters_are_not_stemmed():
    # Porter's reference implementation (and Lucene's and Terrier's PorterStemmer) leave words of one or two
    # letters alone; the published algorithm, as PyStemmer runs it, empties "s" and cuts "us" to "u".
    porter = Stemmer.Stemmer("porter")
    assert [porter.stemWord(w) for w in ("s", "us", "gas")] == ["", "u", "ga"]
    a = Analyzer()
    assert a.analyze("John's car; U.S. gas") == ["john", "s", "car", "u", "s", "ga"]
    assert "" not in a.analyze("Mary's, Ross's and the U.S.'s")
    assert Analyzer(min_stem_length=1).analyze("John's us") == ["john", "", "u"]
    assert Analyzer(min_stem_length=4).analyze("gas flows") == ["gas", "flow"]


def test_settings_saved_before_min_stem_length_and_keep_marks_load_as_they_were_indexed():
    old = Analyzer().to_dict()
    del old["min_stem_length"], old["keep_marks"]
    assert Analyzer.from_dict(old) == Analyzer(min_stem_length=1, keep_marks=False)


def test_combining_marks_stay_in_their_word():
    """Devanagari's vowel signs and viramas (Mc, Mn), Thai's vowels, a decomposed accent, the dot of a lowercased
    İ: ``\\w`` alone cut each word at them; Unicode's word boundaries (UAX #29) keep them."""
    plain = Analyzer(stemmer=None, stopwords=None, fold_dotted_i=False)  # İ lowercased by Python's full mapping
    text = "हिन्दी भाषा ภาษาไทย cafe\u0301 İstanbul naïve"
    assert plain.analyze(text) == ["हिन्दी", "भाषा", "ภาษาไทย", "cafe\u0301", "i\u0307stanbul", "naïve"]
    split = Analyzer(stemmer=None, stopwords=None, keep_marks=False, fold_dotted_i=False)
    assert split.analyze("हिन्दी") == ["ह", "न", "द"]
    assert split.analyze("cafe\u0301 İstanbul") == ["cafe", "i", "stanbul"]
    assert Analyzer.terrier().analyze("हिन्दी café") == ["caf"]  # Terrier's tokeniser: ASCII only
    assert Analyzer(stemmer=None, stopwords=None, token_pattern=r"[a-z]+").analyze("cafe\u0301s ok") == [
        "cafe\u0301s", "ok"]


def test_stopword_lists_ship_as_data_files():
    assert STOPWORD_LISTS == ("lucene", "terrier")
    assert len(load_stopwords("lucene")) == 33 and "the" in load_stopwords("lucene")
    assert len(load_stopwords("terrier")) == 733 and "will" not in load_stopwords("terrier")


def test_custom_stopwords_from_iterable_and_file(tmp_path):
    p = tmp_path / "stop.txt"
    p.write_text("# comment\nWing\n\nflow\n")
    assert Analyzer(stopwords=p, stemmer=None).analyze("wing flow lift") == ["lift"]
    assert Analyzer(stopwords=["lift"], stemmer=None).analyze("wing flow lift") == ["wing", "flow"]
    with pytest.raises(ValueError, match="stopwords must be one of"):
        Analyzer(stopwords="no-such-list")


def test_a_stopword_file_given_by_name_equals_the_analyzer_a_saved_index_keeps(tmp_path):
    """A file named by a string stayed its name, where the index saved its words: ``--index`` with ``--stopwords
    FILE`` refused the same command's index every time ("built with another analyzer": trial t48/features)."""
    p = tmp_path / "stop.txt"
    p.write_text("wings\nFlow\n")
    for given in (str(p), p):
        a = Analyzer(stopwords=given)
        assert a.stopwords == ("flow", "wings") and Analyzer.from_dict(a.to_dict()) == a
    assert Analyzer.from_dict(Analyzer(stopwords="terrier").to_dict()).stopwords == "terrier"  # a list keeps its name


def test_terrier_rules_drop_long_tokens_many_digits_and_long_repeats():
    a = Analyzer.terrier()
    long_token = "a" + "bc" * 10  # 21 characters > 20
    assert a.analyze(f"{long_token} x12345 ab1234 aaab aaaab wing_flutter") == ["ab1234", "aaab", "wing", "flutter"]


def test_length_filters_and_invalid_settings():
    assert Analyzer(stopwords=None, stemmer=None, min_length=2).analyze("a bb ccc") == ["bb", "ccc"]
    with pytest.raises(ValueError, match="token_pattern"):
        Analyzer(token_pattern="(")
    with pytest.raises(ValueError, match="stemmer must be None or one of"):
        Analyzer(stemmer="klingon")
    with pytest.raises(ValueError, match="normalize"):
        Analyzer(normalize="NFX")
    with pytest.raises(ValueError, match="min_stem_length must be a non-negative int, got -1"):
        Analyzer(min_stem_length=-1)


def test_nfkc_normalisation_folds_compatibility_characters():
    assert Analyzer(normalize="NFKC", stopwords=None, stemmer=None).analyze("ﬁnite ＡＢＣ") == ["finite", "abc"]


@pytest.mark.parametrize("a", [Analyzer(), Analyzer.terrier(), Analyzer(stopwords=["x", "y"], stemmer=None),
                               Analyzer(stopwords=None, normalize="NFC")])
def test_settings_round_trip_through_a_dict(a):
    d = a.to_dict()
    assert isinstance(d["stopwords"], list)
    b = Analyzer.from_dict(d)
    assert b == a and b.analyze("The flows of Wings") == a.analyze("The flows of Wings")


def test_tampered_settings_are_rejected():
    d = Analyzer().to_dict()
    d["stopwords"] = d["stopwords"][1:]
    with pytest.raises(ValueError, match="checksum"):
        Analyzer.from_dict(d)
    d = Analyzer().to_dict()
    d["colour"] = 1
    with pytest.raises(ValueError, match="unknown key"):
        Analyzer.from_dict(d)


@pytest.mark.shared
def test_terrier_analysis_of_vaswani_gives_terriers_documented_token_count(shared_file):
    # terrier-core doc/quickstart_experiments.md, `indexstats` on these files: 271581 tokens, 7756 terms.
    from features.collections import load_test_collection

    tc = load_test_collection(shared_file("vaswani_npl"))
    a = Analyzer.terrier()
    docs = [a.analyze(t) for t in tc.docs.fields["body"]]
    assert sum(map(len, docs)) == 271581
    # Snowball's Porter and Terrier's Java Porter stemmer differ on a few words: 8 more distinct terms here.
    assert abs(len({t for d in docs for t in d}) - 7756) <= 10


# -- Chinese and Japanese: UAX #29 word boundaries, as Lucene's StandardTokenizer ------------------------------------
_CJK_TEXTS = [
    "東京大学の研究は素晴らしい",  # kanji + hiragana: one token each
    "北京大学研究中心 2024年 第3回",  # digits split from ideographs
    "アイスcream ラーメンとカレー ｶﾞｷﾞｸﾞ",  # katakana runs (with ー and halfwidth voiced marks), apart from letters
    "한국어abc 서울 대학교 abc_カタ 東京_abc",  # Hangul runs join Latin letters; _ joins katakana to letters
    "か\u3099 人々 〆切 ヶ月 ゟ",  # combining voiced mark stays with its kana; iteration marks; rarer kana
]


def test_chinese_and_japanese_split_as_unicode_word_boundaries():
    """Each Han ideograph and Hiragana character is a token, Katakana runs and Hangul runs are words: UAX #29's word
    boundaries as Lucene's StandardTokenizer applies them (``<IDEOGRAPHIC>``, ``<HIRAGANA>``, ``<KATAKANA>``,
    ``<HANGUL>``). Reference: the ``regex`` module's own UAX #29 word boundaries (``(?w)\\b``), which no code here
    uses; the texts hold no apostrophes, periods or emoji, where this tokenizer still differs (module docstring)."""
    regex = import_reference("regex")
    plain = Analyzer(stemmer=None, stopwords=None)
    for text in _CJK_TEXTS:
        words = [w for w in regex.split(r"(?w)\b", text) if regex.search(r"\w", w)]
        assert plain.tokens(text) == words, text
    assert Analyzer().analyze("東京大学の研究は素晴らしい") == list("東京大学の研究は素晴らしい")
    assert plain.tokens("アイスcream") == ["アイス", "cream"] and plain.tokens("한국어abc") == ["한국어abc"]
    # the reproducer: before, each text was one term and the query '研究' matched neither
    docs = [set(Analyzer().analyze(t)) for t in ("東京大学の研究は素晴らしい", "北京大学研究中心", "cafe cat")]
    assert [set(Analyzer().analyze("研究")) <= d for d in docs] == [True, True, False]
    old = Analyzer(split_cjk=False)
    assert old.analyze("東京大学の研究は素晴らしい") == ["東京大学の研究は素晴らしい"]


def _old_tokens(text: str, _cache: dict = {}) -> list[str]:  # noqa: B006 (a per-process cache)
    """The default tokenizer before ``split_cjk``, frozen: ``\\w`` runs with the combining marks (Mn, Mc, Me) in
    them, lowercased."""
    if "re" not in _cache:
        import re
        import sys
        import unicodedata

        marks = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me"))
        _cache["re"] = re.compile(f"(?:\\w|[{re.escape(marks)}])+")
    return _cache["re"].findall(text.lower())


@pytest.mark.shared
@pytest.mark.parametrize("name", ["adi", "cacm"])
def test_token_streams_of_latin_collections_are_unchanged_by_cjk_splitting(shared_file, name):
    from features.collections import load_test_collection

    tc = load_test_collection(shared_file(name))
    a = Analyzer()
    texts = [t for f in tc.docs.fields.values() for t in f] + list(tc.queries.texts)
    assert sum(len(a.tokens(t)) for t in texts) > 5_000
    for t in texts:
        assert a.tokens(t) == _old_tokens(t)


def test_settings_saved_before_split_cjk_load_as_they_were_indexed():
    old = Analyzer().to_dict()
    del old["split_cjk"]
    back = Analyzer.from_dict(old)
    assert back == Analyzer(split_cjk=False) and back.analyze("研究中心") == ["研究中心"]
    assert Analyzer.from_dict(Analyzer().to_dict()).analyze("研究中心") == ["研", "究", "中", "心"]
    with pytest.raises(ValueError, match="split_cjk must be True or False"):
        Analyzer(split_cjk=1)


def test_every_word_character_splits_by_its_unicode_script_and_word_break_property():
    """Each ``\\w`` character ``c`` (of Python's Unicode), in ``c c a``: a Han or Hiragana character (Scripts.txt, as
    Lucene's ``\\p{Script:Han}``/``\\p{Script:Hiragana}``) stands alone, a Katakana one (WordBreakProperty.txt) makes a
    run apart from the letter, any other stays in one word. Reference: the ``regex`` module's Unicode tables."""
    import re
    import sys
    import unicodedata

    regex = import_reference("regex")
    alone, katakana = regex.compile(r"[\p{Script=Han}\p{Script=Hiragana}]"), regex.compile(r"\p{Word_Break=Katakana}")
    plain = Analyzer(stemmer=None, stopwords=None, lowercase=False)
    word = re.compile(r"\w")
    wrong = []
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if not word.match(c) or unicodedata.category(c) in ("Cn", "Mn", "Mc", "Me") or c in "\uff9e\uff9f":
            continue
        expected = [c, c, "a"] if alone.match(c) else [c + c, "a"] if katakana.match(c) else [c + c + "a"]
        if plain.tokens(c + c + "a") != expected:
            wrong.append(f"U+{code:04X}")
    assert wrong == []


@pytest.mark.parametrize("settings", [{}, {"keep_marks": False}, {"token_pattern": r"[a-z]{2}"},
                                      {"token_pattern": r"\d+|[a-z]+", "split_cjk": False}, {"lowercase": False}])
def test_ascii_text_takes_a_fast_path_with_the_same_tokens(settings):
    # ASCII text is tokenised by the token pattern alone (it holds no mark and no CJK character): the tokens must
    # be those of the full Unicode path, which the same text with a non-ASCII word appended takes.
    import random

    rng = random.Random(3)
    alphabet = "abcXYZ019_ -.,'\t\n"
    a = Analyzer(**settings)
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert text.isascii()
        tail = " \u00e9t\u00e9"  # its tokens (by the Unicode path) cannot join the text's across the space
        assert a.tokens(text) + a.tokens(tail) == a.tokens(text + tail), (settings, text)
    k = Analyzer(stemmer=None, stopwords=None)
    assert k.tokens("\u212aelvin") == ["kelvin"]  # the Kelvin sign lowercases to ASCII: the check follows lower()
