"""Behaviours mended in stop 57."""

from __future__ import annotations

import re

import pytest

from features.analysis import Analyzer


@pytest.mark.parametrize("pattern, text", [(r"[a-z]+|[0-9]+", "b747 flies at mach2"), (r"[A-Za-z]{3}", "abcdef gh"),
                                           (r"\d+|[^\W\d]+", "covid19 h1n1 zürich2"),
                                           (r"[a-z]+|[0-9]+", "école2 ñu3")])
def test_a_token_pattern_s_matches_are_the_tokens(pattern, text):
    """With keep_marks (the default), matches that touched were glued into one token: '[a-z]+|[0-9]+' kept
    'mach2' whole, so a query for 'mach' missed it."""
    a = Analyzer(token_pattern=pattern, stopwords=None, stemmer=None, normalize="NFC")
    assert a.tokens(text) == re.findall(pattern, text)


@pytest.mark.parametrize("pattern", [r"(?u)\b\w\w+\b", r"(?i)[a-z]+"])
def test_a_token_pattern_with_global_inline_flags_is_taken(pattern):
    """scikit-learn's default pattern and any '(?i)...' were refused as 'not a valid regular expression'."""
    text = "Ab CD e Zürich"
    assert Analyzer(token_pattern=pattern, stopwords=None, stemmer=None, lowercase=False).tokens(text) == \
        re.findall(pattern, text)


def test_combining_marks_still_continue_a_token():
    a = Analyzer(stopwords=None, stemmer=None)
    assert a.tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert a.tokens("cafe\u0301s ok") == ["cafe\u0301s", "ok"]
    assert Analyzer(token_pattern=r"[a-z]+|[0-9]+", stopwords=None, stemmer=None).tokens("e\u03012") == ["e\u03012"]
