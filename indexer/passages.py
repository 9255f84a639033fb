"""Split an extracted document into passages: section-aware, roughly 40-200 words each.

A passage never crosses a heading (or a PDF page), so each keeps one heading path and
one deep link. Long sections are cut at paragraph, then sentence, then word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from crawler.document import ExtractedDocument, Section

MAX_WORDS = 200
MIN_WORDS = 40
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class Passage:
    heading_path: tuple[str, ...]
    text: str
    anchor: str | None
    page: int | None
    position: int  # order within the document


def _units(text: str) -> Iterator[str]:
    """Paragraphs, with any paragraph over MAX_WORDS cut into sentences or word runs."""
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if not para:
            continue
        if len(para.split()) <= MAX_WORDS:
            yield para
            continue
        for sentence in _SENTENCE_END.split(para):
            words = sentence.split()
            for i in range(0, len(words), MAX_WORDS):
                yield " ".join(words[i : i + MAX_WORDS])


def _chunks(text: str) -> list[str]:
    chunks: list[list[str]] = []
    count = 0
    for unit in _units(text):
        n = len(unit.split())
        if chunks and count + n <= MAX_WORDS:
            chunks[-1].append(unit)
            count += n
        else:
            chunks.append([unit])
            count = n
    joined = ["\n\n".join(c) for c in chunks]
    # A short tail reads better as the end of the previous passage than on its own.
    if len(joined) > 1 and len(joined[-1].split()) < MIN_WORDS:
        tail = joined.pop()
        joined[-1] = f"{joined[-1]}\n\n{tail}"
    return joined


def split_section(section: Section, start: int = 0) -> list[Passage]:
    return [
        Passage(tuple(section.heading_path), chunk, section.anchor, section.page, start + i)
        for i, chunk in enumerate(_chunks(section.text))
    ]


def split_document(document: ExtractedDocument) -> list[Passage]:
    passages: list[Passage] = []
    for section in document.sections:
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
