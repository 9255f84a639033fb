"""Which text of an HTML page is its main content, as judged by trafilatura.

This module owns the call to trafilatura and the matching of its verdict back onto our own
blocks of text. trafilatura is the best published main-text extractor on the article-extraction
benchmark, but its output is a new tree without heading anchors, so `crawler.extract_html` keeps
walking the page's own DOM for structure and asks a `MainText` whether each block it meets was
kept. Pure function of the bytes: trafilatura is only given markup, never a URL to fetch, and
metadata (whose date search could follow links) is switched off.
"""

from __future__ import annotations

import re

from lxml import etree
from trafilatura import bare_extraction

from crawler.language import normalise_text

# trafilatura's output elements that hold one block of running text.
_TEXT_BLOCKS = ("head", "p", "item", "cell", "quote", "code")
# Inline elements: their text runs on with the text around them.
_INLINE = ("hi", "ref", "del", "lb", "graphic")
_TOKEN = re.compile(r"\w+")
# A block of fewer words than this is kept only if trafilatura kept exactly that block: short
# strings like "Share" or "Read more" would otherwise match somewhere inside any article.
_MIN_WORDS_FOR_SUBSTRING = 4


def _key(text: str) -> str:
    # Words only, case-folded: trafilatura and our walk differ in spacing and punctuation.
    return " ".join(_TOKEN.findall(normalise_text(text).casefold()))


class MainText:
    """The blocks of text trafilatura kept from one page."""

    def __init__(self, blocks: list[str]) -> None:
        keys = [k for k in (_key(b) for b in blocks) if k]
        self._blocks = set(keys)
        # Padded so a containment test only matches whole words.
        self._stream = " " + " ".join(keys) + " "

    def __bool__(self) -> bool:
        return bool(self._blocks)

    def keeps_whole(self, text: str) -> bool:
        """Whether trafilatura kept exactly this block, not only its words inside another."""
        return _key(text) in self._blocks

    def keeps(self, text: str) -> bool:
        """Whether a block of our text is (part of) what trafilatura kept."""
        key = _key(text)
        if not key:
            return False
        if key in self._blocks:
            return True
        if key.count(" ") + 1 < _MIN_WORDS_FOR_SUBSTRING:
            return False
        return f" {key} " in self._stream


def _loose_text(container: etree._Element) -> list[str]:
    """Runs of text lying straight in a container, between its block children.

    A page with text directly inside a <div> or <section> comes out of trafilatura as text in
    <body> itself, around its <head>s, as an element's tail.
    """
    runs: list[str] = []
    run = [container.text or ""]
    for child in container:
        if child.tag in _INLINE:
            run.append("".join(child.itertext()))
        else:
            runs.append("".join(run))
            run = []
        run.append(child.tail or "")
    runs.append("".join(run))
    return [r for r in runs if r.strip()]


def main_text(body: bytes | str) -> MainText | None:
    """trafilatura's main content of a page, or None when it finds none or fails."""
    try:
        # trafilatura's balanced default scored best on bench/extraction.py (F1 0.962, against
        # 0.961 with favor_precision and 0.959 with favor_recall).
        result = bare_extraction(
            body,
            include_comments=False,  # reader comments are not guidance
            include_tables=True,
            with_metadata=False,
        )
    except Exception:  # noqa: BLE001 - trafilatura must never be why a page yields nothing
        return None
    tree = getattr(result, "body", None)
    if tree is None:
        return None
    for br in tree.iter("lb"):
        br.text = "\n"  # a line break separates words; itertext() would glue them
    blocks = ["".join(el.itertext()) for el in tree.iter(*_TEXT_BLOCKS)]
    for container in tree.iter():
        if container.tag not in _TEXT_BLOCKS and container.tag not in _INLINE:
            blocks += _loose_text(container)
    # An address or a poem is one block to trafilatura but a block per line to our walk.
    blocks += [line for block in blocks if "\n" in block for line in block.splitlines()]
    # Our walk reads a table row as one block ("Service | Hours"), trafilatura as cells.
    blocks += [" ".join("".join(c.itertext()) for c in row) for row in tree.iter("row")]
    found = MainText(blocks)
    return found if found else None
