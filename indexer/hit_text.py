"""How much of a passage a hit shows, whichever backend found it: titles and headings cut
to the crawler's limits, and the plain snippet shown when nothing can be highlighted."""

from __future__ import annotations

from crawler.bounds import MAX_HEADING_CHARS, MAX_HEADING_DEPTH

SNIPPET_WORDS = 45
# 45 words are ~300 characters; these only cut text without spaces.
SNIPPET_CHARS = 600
SNIPPET_HTML_CHARS = 2000


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def heading_path(headings: list[str]) -> list[str]:
    """A stored heading path within the crawler's limits: its top and its own heading."""
    if len(headings) > MAX_HEADING_DEPTH:
        headings = headings[: MAX_HEADING_DEPTH - 1] + headings[-1:]
    return [clip(h, MAX_HEADING_CHARS) for h in headings]


def plain_snippet(text: str) -> str:
    words = text.split(maxsplit=SNIPPET_WORDS)
    cut = " ".join(words[:SNIPPET_WORDS])
    if len(cut) > SNIPPET_CHARS:
        return clip(cut, SNIPPET_CHARS)
    return cut + (" …" if len(words) > SNIPPET_WORDS else "")
