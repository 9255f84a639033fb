"""Split an extracted document into passages: section-aware, roughly 40-200 words each.

A passage never crosses a heading (or a PDF page), so each keeps one heading path and
one deep link. Long sections are cut at paragraph, then sentence, then word boundaries.

Every passage is bounded whatever the store holds: the document is first cut to the
crawler's limits (crawler/bounds.py: heading length and depth, section count and size), so
a row stored before those limits existed cannot put a 1 MB heading into every passage, and
a passage never passes MAX_CHARS, even when its text has no spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from crawler.bounds import bound_document
from crawler.document import ExtractedDocument, Section

MAX_WORDS = 200
MIN_WORDS = 40
# 200 words of real text are 1,000-2,000 characters: this only cuts runs without spaces.
MAX_CHARS = 4000
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class Passage:
    heading_path: tuple[str, ...]
    text: str
    anchor: str | None
    page: int | None
    position: int  # order within the document
    link_share: float = 0.0  # of its section's text, link text (crawler/extract_html.py)
    ocr: bool = False  # read by OCR from a scanned page (crawler/ocr.py)


def _runs(words: list[str]) -> Iterator[str]:
    """Words joined in runs of at most MAX_WORDS words and MAX_CHARS characters; a "word"
    longer than MAX_CHARS (no real one is) is cut into pieces first."""
    run: list[str] = []
    size = 0
    for word in words:
        for start in range(0, len(word), MAX_CHARS):
            piece = word[start : start + MAX_CHARS]
            if run and (len(run) == MAX_WORDS or size + 1 + len(piece) > MAX_CHARS):
                yield " ".join(run)
                run, size = [], 0
            size += len(piece) + (1 if run else 0)
            run.append(piece)
    if run:
        yield " ".join(run)


def _units(text: str) -> Iterator[str]:
    """Paragraphs, with any paragraph over MAX_WORDS or MAX_CHARS cut into sentences or
    word runs."""
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if not para:
            continue
        if len(para.split()) <= MAX_WORDS and len(para) <= MAX_CHARS:
            yield para
            continue
        for sentence in _SENTENCE_END.split(para):
            yield from _runs(sentence.split())


def _chunks(text: str) -> list[str]:
    chunks: list[list[str]] = []
    count = size = 0
    for unit in _units(text):
        n = len(unit.split())
        if chunks and count + n <= MAX_WORDS and size + 2 + len(unit) <= MAX_CHARS:
            chunks[-1].append(unit)
            count += n
            size += 2 + len(unit)
        else:
            chunks.append([unit])
            count, size = n, len(unit)
    joined = ["\n\n".join(c) for c in chunks]
    # A short tail reads better as the end of the previous passage than on its own.
    if (len(joined) > 1 and len(joined[-1].split()) < MIN_WORDS
            and len(joined[-2]) + 2 + len(joined[-1]) <= MAX_CHARS):
        tail = joined.pop()
        joined[-1] = f"{joined[-1]}\n\n{tail}"
    return joined


def split_section(section: Section, start: int = 0) -> list[Passage]:
    return [
        Passage(tuple(section.heading_path), chunk, section.anchor, section.page, start + i,
                section.link_share, section.ocr)
        for i, chunk in enumerate(_chunks(section.text))
    ]


def split_document(document: ExtractedDocument) -> list[Passage]:
    passages: list[Passage] = []
    for section in bound_document(document).sections:
        passages.extend(split_section(section, start=len(passages)))
    return passages


def deep_link(url: str, passage: Passage) -> str:
    """url#page=N for a PDF passage, url#anchor under an identified heading, else url."""
    base = url.split("#", 1)[0]
    if passage.page is not None:
        return f"{base}#page={passage.page}"
    if passage.anchor:
        return f"{base}#{passage.anchor}"
    return base
