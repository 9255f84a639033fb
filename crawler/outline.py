"""Headings and paragraphs in reading order to sections with heading paths.

The shared builder of the Word (DOCX) and OpenDocument (ODT) extractors, whose formats mark
headings with outline levels rather than page positions.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from crawler.document import ExtractedDocument, ExtractionError, Section
from crawler.language import detect_language, normalise_text


def clean_text(text: str) -> str:
    """NFKC-normalise and collapse whitespace (tabs, soft line breaks) to single spaces."""
    return " ".join(normalise_text(text).split())


def file_title(url: str) -> str:
    """The file name without its suffix: the title of last resort for an untitled document."""
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return PurePosixPath(name).stem if name else ""


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


class OutlineSections:
    """Turns a stream of headings and paragraphs into sections with heading paths.

    Level 0 is the document's own title paragraph, 1-9 are outline levels. The title is only
    known at the end (metadata may be empty), so paths are built in `finish`, the way the PDF
    extractor does: `[title, *headings]`, without saying the title twice.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []
        self._blocks: list[str] = []
        self._raw: list[tuple[list[str], str]] = []
        self.first_heading = ""
        self.title_paragraph = ""

    def heading(self, level: int, text: str) -> None:
        text = clean_text(text)
        if not text:
            return
        self._end_section()
        if level == 0 and not self.title_paragraph:
            self.title_paragraph = text
        if level > 0 and not self.first_heading:
            self.first_heading = text
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, text))

    def paragraph(self, text: str) -> None:
        if text.strip():
            self._blocks.append(text)

    def _end_section(self) -> None:
        if self._blocks:
            self._raw.append(([t for _, t in self._stack], "\n\n".join(self._blocks)))
        self._blocks = []

    def finish(self, title: str) -> list[Section]:
        self._end_section()
        sections = []
        for headings, text in self._raw:
            if headings and _key(headings[0]) == _key(title):
                headings = headings[1:]
            sections.append(Section(heading_path=[title, *headings], text=text))
        return sections


    def document(self, *, meta_title: str, url: str, doc_type: str, language_hint: str,
                 kind: str, updated_at: str | None = None) -> ExtractedDocument:
        """The finished document; its title is the metadata's, the title paragraph's, the
        first heading's or the file name, the first of them there is."""
        title = meta_title or self.title_paragraph or self.first_heading or file_title(url) or url
        sections = self.finish(title)
        if not sections:
            raise ExtractionError(f"no text found in the {kind}")
        sample = " ".join(s.text for s in sections[:20])
        return ExtractedDocument(
            title=title,
            doc_type=doc_type,
            language=language_hint or detect_language(sample),
            sections=sections,
            updated_at=updated_at,
        )
