"""HTML pages to `ExtractedDocument`: main content only, split into sections at headings.

This module owns what counts as a page's content (the main element minus navigation, cookie
banners, skip links, social links and hidden parts), how headings become `heading_path`s and
`anchor`s for `url#anchor` deep links, and which links the crawler may follow. Pure function of
the bytes and the URL: no network, no framework.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from crawler.document import ExtractedDocument, Section
from crawler.language import detect_language, normalise_text

_MAIN_SELECTORS = ("main", "[role=main]", "article", "#main", "#content")
_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "form", "iframe",
    "nav", "footer", "aside", "button", "select", "dialog",
)  # fmt: skip
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search"}
_SOCIAL_HOSTS = (
    "facebook.com", "twitter.com", "x.com", "instagram.com", "youtube.com", "youtu.be",
    "linkedin.com", "tiktok.com",
)  # fmt: skip
_SKIP_TARGETS = {"#main", "#content", "#main-content", "#maincontent", "#skip-target"}
# "Skip to content" / Welsh "Neidio i'r prif gynnwys".
_SKIP_TEXT = re.compile(r"^\s*(skip\b|neidio\b)", re.IGNORECASE)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Elements that end the running text block: their content starts a new paragraph.
_BLOCKS = {
    "p", "div", "section", "article", "main", "header", "ul", "ol", "dl", "li", "dd", "dt",
    "blockquote", "table", "thead", "tbody", "tfoot", "tr", "caption", "figure", "figcaption",
    "pre", "address", "details", "summary", "hr", "br",
}  # fmt: skip
_SPACE = re.compile(r"\s+")
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)


def extract_html(body: bytes | str, url: str, language_hint: str = "") -> ExtractedDocument:
    """Extract title, language, sections, links and canonical URL from one HTML page."""
    soup = BeautifulSoup(body, "lxml")
    base = url
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        base = urljoin(url, str(base_tag["href"]).strip())
    page_title = _clean(soup.title.get_text(" ")) if soup.title else ""
    canonical = _canonical(soup, base)
    html_lang = _html_lang(soup)

    main = _main_content(soup)
    _remove_boilerplate(main)

    first_h1 = main.find("h1")
    title = _clean(first_h1.get_text(" ")) if isinstance(first_h1, Tag) else ""
    title = title or _strip_site_suffix(page_title) or url
    sections = _sections(main, title)
    text_sample = " ".join(s.text for s in sections[:20])
    return ExtractedDocument(
        title=title,
        doc_type="html",
        language=html_lang or language_hint or detect_language(text_sample),
        sections=sections,
        links=_links(main, base, url),
        canonical_url=canonical,
    )


def _clean(text: str) -> str:
    return _SPACE.sub(" ", normalise_text(text)).strip()


def _strip_site_suffix(title: str) -> str:
    # "Live fear free | GOV.WALES" -> "Live fear free"; " - " is too common inside real titles.
    head, sep, _ = title.rpartition(" | ")
    return head.strip() if sep and head.strip() else title


def _canonical(soup: BeautifulSoup, base: str) -> str | None:
    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rels = rel if isinstance(rel, list) else str(rel).split()
        if "canonical" in (r.lower() for r in rels):
            href = str(link["href"]).strip()
            return urldefrag(urljoin(base, href))[0] if href else None
    return None


def _html_lang(soup: BeautifulSoup) -> str:
    html = soup.find("html")
    if not isinstance(html, Tag):
        return ""
    lang = str(html.get("lang") or html.get("xml:lang") or "").strip().lower()
    primary = lang.replace("_", "-").split("-")[0]
    # Only the two languages the index analyses; anything else is left to the hint/detector.
    return primary if primary in ("en", "cy") else ""


def _main_content(soup: BeautifulSoup) -> Tag:
    for selector in _MAIN_SELECTORS:
        found = soup.select_one(selector)
        if found is not None:
            return found
    body = soup.body
    return body if body is not None else soup


def _classes_and_id(tag: Tag) -> str:
    classes = tag.get("class") or []
    if isinstance(classes, str):
        classes = [classes]
    return " ".join([*classes, str(tag.get("id") or "")]).lower()


def _is_boilerplate(tag: Tag) -> bool:
    if tag.name in _DROP_TAGS:
        return True
    if str(tag.get("role") or "").lower() in _DROP_ROLES:
        return True
    if tag.name == "header":
        # An article's own <header> often holds its <h1>; the site banner is not in an article.
        in_article = tag.find_parent(["article", "main", "section"]) is not None
        return not (in_article and tag.find(_HEADINGS) is not None)
    if tag.has_attr("hidden") or str(tag.get("aria-hidden") or "").lower() == "true":
        return True
    if "display:none" in str(tag.get("style") or "").replace(" ", "").lower():
        return True
    marks = _classes_and_id(tag)
    if "cookie" in marks or "breadcrumb" in marks or "skip-link" in marks:
        return True
    if "breadcrumb" in str(tag.get("aria-label") or "").lower():
        return True
    if tag.name == "a":
        return _is_skip_link(tag) or _is_social_link(tag)
    return False


def _is_skip_link(a: Tag) -> bool:
    href = str(a.get("href") or "").strip()
    return href in _SKIP_TARGETS or (href.startswith("#") and bool(_SKIP_TEXT.match(a.text)))


def _is_social_link(a: Tag) -> bool:
    host = (urlsplit(str(a.get("href") or "").strip()).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _SOCIAL_HOSTS)


def _remove_boilerplate(main: Tag) -> None:
    doomed = [t for t in main.find_all(True) if _is_boilerplate(t)]
    for tag in doomed:
        if tag.decomposed:  # already gone with an ancestor
            continue
        # A list item that only held a social/skip link is an empty bullet once it goes.
        holder = tag.parent if tag.name == "a" else None
        tag.decompose()
        while holder is not None and holder.name in ("li", "ul", "ol"):
            if holder.get_text(strip=True) or holder.find("img"):
                break
            parent = holder.parent
            holder.decompose()
            holder = parent


def _heading_anchor(heading: Tag) -> str | None:
    if heading.get("id"):
        return str(heading["id"])
    for a in heading.find_all("a"):
        if a.get("id") or a.get("name"):
            return str(a.get("id") or a.get("name"))
    # Older pages put an empty <a id> right before the heading.
    prev = heading.find_previous_sibling(True)
    if prev is not None and prev.name == "a" and not prev.get_text(strip=True):
        if prev.get("id") or prev.get("name"):
            return str(prev.get("id") or prev.get("name"))
    parent = heading.parent
    if isinstance(parent, Tag) and parent.name == "section" and parent.get("id"):
        if parent.find(True) is heading:
            return str(parent["id"])
    return None


class _SectionBuilder:
    """Walks the main content in document order, cutting sections at headings."""

    def __init__(self, title: str) -> None:
        self.sections: list[Section] = []
        self.stack: list[tuple[int, str]] = []
        self.path: list[str] = [title]
        self.anchor: str | None = None
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.prefix = ""

    def flush_block(self) -> None:
        text = _clean("".join(self.inline))
        if text:
            self.blocks.append(self.prefix + text)
            # Only the first block of a list item gets the bullet.
            self.prefix = ""
        self.inline = []

    def end_section(self) -> None:
        self.flush_block()
        if self.blocks:
            self.sections.append(Section(list(self.path), "\n\n".join(self.blocks), self.anchor))
        self.blocks = []

    def heading(self, tag: Tag) -> None:
        text = _clean(tag.get_text(" "))
        if not text:
            return
        self.end_section()
        level = int(tag.name[1])
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        self.path = [t for _, t in self.stack]
        self.anchor = _heading_anchor(tag)

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, _SKIPPED_STRINGS):
                    self.inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            if child.name in _HEADINGS:
                self.heading(child)
                continue
            if child.name in ("td", "th") and _clean("".join(self.inline)):
                self.inline.append(" | ")
            if child.name in _BLOCKS:
                self.flush_block()
                if child.name == "li":
                    self.prefix = "- "
                self.walk(child)
                self.flush_block()
                self.prefix = ""
            else:
                self.walk(child)


def _sections(main: Tag, title: str) -> list[Section]:
    builder = _SectionBuilder(title)
    builder.walk(main)
    builder.end_section()
    return builder.sections


def _links(main: Tag, base: str, page_url: str) -> list[str]:
    page = urldefrag(page_url)[0]
    seen: dict[str, None] = {}
    for a in main.find_all("a", href=True):
        href = str(a["href"]).strip()
        if not href or href.startswith("#"):
            continue
        absolute = urldefrag(urljoin(base, href))[0]
        if urlsplit(absolute).scheme not in ("http", "https") or absolute == page:
            continue
        seen.setdefault(absolute, None)
    return list(seen)
