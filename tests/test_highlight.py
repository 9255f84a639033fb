"""Snippets (indexer/highlight.py): the query's words marked as the index analyses them,
the best stretches shown, passage text always escaped."""

from __future__ import annotations

from indexer.analysis import english_analyzer
from indexer.highlight import BETWEEN, Highlighter

ANALYZER = english_analyzer()


def _highlighter(**kwargs) -> Highlighter:
    return Highlighter(lambda word: [t.text for t in ANALYZER(word, mode="index")], **kwargs)


def _terms(text: str) -> frozenset[str]:
    return frozenset(t.text for t in ANALYZER(text, mode="query"))


def test_words_are_marked_by_their_stem_not_their_spelling():
    snippet = _highlighter().snippet("Staff notified the team; she notifies them daily",
                                     _terms("notify"))
    assert snippet == ("Staff <mark>notified</mark> the team; she <mark>notifies</mark> them "
                       "daily")


def test_markup_in_a_passage_is_shown_as_text():
    snippet = _highlighter().snippet('<script>alert("x")</script> report the concern',
                                     _terms("report"))
    assert "<script>" not in snippet and "</script>" not in snippet
    assert "&lt;/script&gt;" in snippet
    assert "<mark>report</mark>" in snippet


def test_the_stretch_with_more_of_the_words_is_chosen_and_others_are_cut():
    filler = " ".join(["ordinary words about nothing in particular"] * 20)
    text = f"referral alone here. {filler} referral mechanism national together. {filler}"
    snippet = _highlighter(maxchars=120, surround=20).snippet(
        text, _terms("national referral mechanism"), top=1)
    assert "<mark>national</mark>" in snippet and "<mark>mechanism</mark>" in snippet
    assert "alone" not in snippet and len(snippet) < 300


def test_two_fragments_are_joined_in_text_order():
    filler = " ".join(["ordinary words about nothing in particular"] * 20)
    text = f"first safeguarding point. {filler} second safeguarding point."
    snippet = _highlighter(maxchars=60, surround=10).snippet(text, _terms("safeguarding"))
    first, second = snippet.split(BETWEEN)
    assert "first" in first and "second" in second


def test_no_marks_without_a_matching_word_and_a_giant_word_is_harmless():
    highlighter = _highlighter(maxchars=50, surround=10)
    assert highlighter.snippet("nothing relevant in this passage", _terms("slavery")) == ""
    giant = "slavery" + "x" * 10_000
    assert highlighter.snippet(f"{giant} text", _terms(giant)) == ""


def test_the_word_cache_is_bounded(monkeypatch):
    import indexer.highlight as module

    monkeypatch.setattr(module, "WORD_CACHE_SIZE", 10)
    highlighter = _highlighter()
    highlighter.snippet(" ".join(f"word{i}" for i in range(100)), _terms("word5"))
    assert len(highlighter._cache) <= 10
