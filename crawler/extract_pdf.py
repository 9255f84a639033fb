"""PDF files to `ExtractedDocument`: page-aware sections headed by the PDF's own outline.

This module owns reading PDF text (pypdfium2 first; pdfminer.six when pdfium fails or finds no
text; OCR by crawler/ocr.py for pages with no text layer at all), turning the outline
(bookmarks) into `heading_path`s, and joining the line-broken PDF text back into paragraphs.
Every section carries its 1-based `page`, so a passage can link to `url#page=N`, and says
whether its text was read by OCR. Callers that parse untrusted files should run this in a
child process with a time bound (see `crawler.extract.extract_isolated`).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from crawler import updated_date
from crawler.document import ExtractedDocument, ExtractionError, Section
from crawler.language import detect_language, normalise_text
from crawler.ocr import OcrOptions, OcrResult, read_pages

# pdfium marks a word hyphenated at a line end with U+FFFE (or \x02); a soft hyphen means the same.
_LINE_END_HYPHEN = re.compile(r"[\u00ad\ufffe\x02][ \t]*(?:\n[ \t]*)?")
_HARD_HYPHEN = re.compile(r"(?<=[^\W\d_])-$")
_BULLET = re.compile(
    r"^([\u2022\u25cf\u25aa\u2023\u2043\u25e6*\-\u2013]\s|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s)"
)
_SPACE = re.compile(r"[ \t\f\v]+")
_NO_LAYER = "no text layer (scanned?)"
# Fewer letters and digits than this on a page: no text layer (a page number is not one).
_MIN_LAYER_CHARS = 10
_WORD_CHAR = re.compile(r"[^\W_]")
_OCR_DEFAULT = OcrOptions()
_WORD_TITLE = re.compile(r"^microsoft (word|powerpoint) - ", re.IGNORECASE)


@dataclass
class _Heading:
    level: int
    title: str
    page: int  # 0-based page index


@dataclass
class _RawPdf:
    pages: list[str]
    title: str
    outline: list[_Heading]
    updated_at: str | None = None


def extract_pdf(body: bytes, url: str, language_hint: str = "",
                ocr: OcrOptions = _OCR_DEFAULT, deadline: float | None = None) -> ExtractedDocument:
    """Extract title, language and page-numbered sections from PDF bytes.

    Pages without a text layer are read by OCR (crawler/ocr.py) as `ocr` allows and until
    `deadline` (a `time.monotonic()` time; None for no time bound); their sections say so.
    """
    raw, pdfium_error = _read_with_pdfium(body)
    rendered = raw is not None  # only pages pdfium opened can be rendered for OCR
    if raw is None or not any(_has_text(p) for p in raw.pages):
        pages = _read_with_pdfminer(body)
        if pages is not None and any(_has_text(p) for p in pages):
            raw = _RawPdf(pages, raw.title if raw else "", raw.outline if raw else [],
                          raw.updated_at if raw else None)
            rendered = False
        elif raw is None and pages is None:
            raise ExtractionError(f"not a readable PDF: {pdfium_error or 'no pages'}")
        elif raw is None:
            raise ExtractionError(f"{_NO_LAYER}; pdfium cannot open it to read by OCR "
                                  f"({pdfium_error})")
    if not raw.pages:
        raise ExtractionError("not a readable PDF: no pages")
    scanned = [i for i, text in enumerate(raw.pages) if not _has_text(text)] if rendered else []
    found = read_pages(body, scanned, ocr, hint=language_hint, deadline=deadline)
    ocr_pages = set()
    for index, text in found.texts.items():
        # A stray mark in the text layer (a page number) gives way to what OCR read.
        if _word_chars(text) > _word_chars(raw.pages[index]):
            raw.pages[index] = text
            ocr_pages.add(index)
    keep = {_key(h.title) for h in raw.outline}
    pages = _strip_running_lines([_clean_page(p) for p in raw.pages], keep)
    if not any(pages):
        raise ExtractionError(_no_text_reason(found))

    title = _usable_title(raw.title) or _first_line(pages) or _file_name(url) or url
    sections = _sections(pages, raw.outline, title, ocr_pages)
    sample = " ".join(s.text for s in sections[:20])
    return ExtractedDocument(
        title=title,
        doc_type="pdf",
        language=language_hint or detect_language(sample),
        sections=sections,
        updated_at=raw.updated_at,
        ocr_note=_unread_note(found),
    )


def _word_chars(text: str) -> int:
    return len(_WORD_CHAR.findall(text))


def _has_text(page: str) -> bool:
    """Whether a page has a text layer worth the name: a page number alone is not one."""
    return _word_chars(page) >= _MIN_LAYER_CHARS


def _no_text_reason(found: OcrResult) -> str:
    """Why a PDF whose pages all lack a text layer gave no text (one line)."""
    if found.note and not found.read:
        return f"{_NO_LAYER}; {found.note}"  # OCR off, unavailable, or stopped before a page
    return f"{_NO_LAYER} and OCR found nothing" + (f" ({found.note})" if found.note else "")


def _unread_note(found: OcrResult) -> str | None:
    """For a document with text: the scanned pages OCR did not read, and why."""
    if found.note is None:
        return None
    if found.read:
        return found.note  # it counts the pages read and not read
    return f"{found.asked} scanned pages not read: {found.note}"


def _read_with_pdfium(body: bytes) -> tuple[_RawPdf | None, str]:
    """Return the raw pages, or (None, reason) when pdfium cannot open the file."""
    try:
        pdf = pdfium.PdfDocument(body)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ExtractionError("encrypted PDF") from None
        return None, str(exc).splitlines()[0] if str(exc) else "pdfium could not open it"
    try:
        pages: list[str] = []
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    pages.append(_text_with_gaps(textpage))
                finally:
                    textpage.close()
            except pdfium.PdfiumError:
                pages.append("")  # one bad page should not lose the rest
            finally:
                page.close()
        metadata = pdf.get_metadata_dict(skip_empty=True)
        return _RawPdf(pages, str(metadata.get("Title", "")), _outline(pdf, len(pages)),
                       updated_date.from_pdf(metadata)), ""
    finally:
        # Native memory: do not wait for the garbage collector on long crawls.
        pdf.close()


def _text_with_gaps(textpage: pdfium.PdfTextPage) -> str:
    """Page text with a blank line wherever the vertical gap between lines says "paragraph".

    pdfium's text has no blank lines, so paragraph breaks are read from where each line
    starts on the page: a gap well above the page's usual line spacing ends a paragraph.
    """
    text = textpage.get_text_range()
    lines = text.split("\r\n")
    # Only when characters map 1:1 to char indices can a line be located by its first char.
    if len(lines) < 3 or len(text) != textpage.count_chars():
        return text
    bottoms: list[float] = []
    index = 0
    for line in lines:
        bottoms.append(textpage.get_charbox(index)[1] if line else bottoms[-1] if bottoms else 0)
        index += len(line) + 2
    gaps = [a - b for a, b in zip(bottoms, bottoms[1:], strict=False)]
    positive = sorted(g for g in gaps if g > 0)
    if not positive:
        return text
    usual = positive[len(positive) // 2]
    out = [lines[0]]
    for gap, line in zip(gaps, lines[1:], strict=True):
        if gap > 1.6 * usual:
            out.append("")
        out.append(line)
    return "\n".join(out)


def _outline(pdf: pdfium.PdfDocument, page_count: int) -> list[_Heading]:
    headings = []
    for bookmark in pdf.get_toc(max_depth=8):
        dest = bookmark.get_dest()
        index = dest.get_index() if dest is not None else None
        title = " ".join(normalise_text(bookmark.get_title()).split())
        # Bookmarks that open a URL or point nowhere cannot place a heading on a page.
        if index is not None and 0 <= index < page_count and title:
            headings.append(_Heading(bookmark.level, title, index))
    return headings


def _read_with_pdfminer(body: bytes) -> list[str] | None:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pages = [
            "".join(el.get_text() for el in layout if isinstance(el, LTTextContainer))
            for layout in extract_pages(io.BytesIO(body))
        ]
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise ExtractionError("encrypted PDF") from None
    except MemoryError:
        raise  # a bomb, not a malformed file: the caller reports it against its memory limit
    except Exception:  # noqa: BLE001 - pdfminer raises many types on malformed files
        return None
    # pdfminer silently yields no pages for a truncated file: that is not a readable PDF.
    return pages or None


def clean_pdf_text(text: str) -> str:
    """Normalise one page of PDF text and rejoin its lines into "\\n\\n"-separated paragraphs."""
    return "\n\n".join(_paragraphs(_lines(text)))


def _clean_page(text: str) -> str:
    return "\n".join(_lines(text))


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = normalise_text(_LINE_END_HYPHEN.sub("", text))
    return [_SPACE.sub(" ", line).strip() for line in text.split("\n")]


def _paragraphs(lines: list[str]) -> list[str]:
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return []
    # A line much shorter than the page's usual full line ended early: a paragraph end.
    full = lengths[int(len(lengths) * 0.9) - 1 if len(lengths) > 1 else 0]
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if current and _BULLET.match(line):
            paragraphs.append(current)
            current = ""
        current = _join(current, line)
        short = full >= 40 and len(line) < 0.7 * full
        ends_sentence = line[-1] in ".:?!" and len(line) < 0.85 * full
        if short or ends_sentence:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _join(current: str, line: str) -> str:
    if not current:
        return line
    # "traffick-" + "ing": a word broken at the line end, not a compound.
    if _HARD_HYPHEN.search(current) and line[:1].islower():
        return current[:-1] + line
    return f"{current} {line}"


def _strip_running_lines(pages: list[str], keep: set[str]) -> list[str]:
    """Drop running headers/footers ("Page 3 of 40", the short title) repeated on most pages.

    Otherwise every page adds a passage that is only the header, and each page's first
    paragraph starts with the document title. Lines in `keep` (outline titles) always stay,
    and so does a page whose every line looks running: a document of one repeated line a
    page (a form, a slide deck, a scan's stamp) is that line, not nothing.
    """
    if len(pages) < 3:
        return pages
    need = max(2, (len(pages) + 1) // 2)

    def folded(key: str) -> str:
        return re.sub(r"\d+", "#", key)

    def edges(lines: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(lines) if line]
        return sorted(set(filled[:2] + filled[-2:]))

    split = [page.split("\n") for page in pages]
    exact: Counter[str] = Counter()
    fuzzy: Counter[str] = Counter()
    for lines in split:
        keys = {_key(lines[i]) for i in edges(lines)}
        exact.update(keys)
        fuzzy.update({folded(k) for k in keys})

    def running(line: str) -> bool:
        key = _key(line)
        if key in keep:
            return False
        # Numbers vary ("Page 2 of 9"), but "Part 1"/"Part 2" on two pages is not a header.
        return exact[key] >= need or fuzzy[folded(key)] >= max(3, need)

    out = []
    for lines in split:
        drop = {i for i in edges(lines) if running(lines[i])}
        kept = [line for i, line in enumerate(lines) if i not in drop]
        out.append("\n".join(kept if any(kept) else lines))
    return out


def _usable_title(title: str) -> str:
    title = " ".join(normalise_text(title).split())
    title = _WORD_TITLE.sub("", title)
    title = re.sub(r"\.(docx?|pdf|pptx?)$", "", title, flags=re.IGNORECASE)
    return "" if title.lower() in ("", "untitled", "title") else title


def _first_line(pages: list[str]) -> str:
    for page in pages:
        for line in page.split("\n"):
            if line.strip():
                return line.strip()[:200]
    return ""


def _file_name(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _place_headings(lines: list[str], headings: list[_Heading]) -> list[tuple[int, int, _Heading]]:
    """(start line, lines used, heading) for each outline entry on this page, in order.

    Entries whose title is not found as a line (or two joined lines, for wrapped headings)
    start where the previous entry did, or at the top of the page: the bookmark still says
    the heading is on this page.
    """
    placed = []
    cursor = 0
    for heading in headings:
        want = _key(heading.title)
        found = None
        for i in range(cursor, len(lines)):
            if _key(lines[i]) == want:
                found = (i, 1)
                break
            if i + 1 < len(lines) and _key(lines[i] + " " + lines[i + 1]) == want:
                found = (i, 2)
                break
        if found is None:
            placed.append((cursor, 0, heading))
        else:
            placed.append((found[0], found[1], heading))
            cursor = found[0] + found[1]
    return placed


def _sections(pages: list[str], outline: list[_Heading], title: str,
              ocr_pages: set[int]) -> list[Section]:
    sections: list[Section] = []
    stack: list[_Heading] = []

    def path() -> list[str]:
        titles = [h.title for h in stack]
        # Many outlines start with the document title itself; do not say it twice.
        if titles and _key(titles[0]) == _key(title):
            titles = titles[1:]
        return [title, *titles]

    def add(lines: list[str], index: int) -> None:
        text = "\n\n".join(_paragraphs(lines))
        if text:
            sections.append(Section(heading_path=path(), text=text, page=index + 1,
                                    ocr=index in ocr_pages))

    for index, page_text in enumerate(pages):
        lines = page_text.split("\n") if page_text else []
        on_page = [h for h in outline if h.page == index]
        start = 0
        for line_no, used, heading in _place_headings(lines, on_page):
            add(lines[start:line_no], index)
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
            start = line_no + used
        add(lines[start:], index)
    return sections
