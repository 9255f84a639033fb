"""HTML pages to `ExtractedDocument`: main content only, split into sections at headings.

This module owns what counts as a page's content, how headings become `heading_path`s and
`anchor`s for `url#anchor` deep links, and which links the crawler may follow. Two judges must
agree for a block of text to be kept: our own rules drop what is boilerplate by its markup
(navigation, banners, footers, cookie notices, skip links, share and follow bars, hidden parts;
an `<aside>` or a social-network link only when what it holds says so: an aside that holds the
page's article and a link inside a sentence are content), and
trafilatura (`crawler.main_content`) says which of the remaining text is the main content, so a
page need not put it in `<main>`. When trafilatura finds nothing, the main element alone decides,
as before. Pure function of the bytes and the URL: no network, no framework.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from crawler import updated_date
from crawler.document import ExtractedDocument, Section
from crawler.language import detect_language, normalise_text
from crawler.main_content import main_text

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
LINK_BLOCK_SHARE = 0.6
# Class or id fragments of a cookie notice, a breadcrumb trail or a skip link.
_MARKS = ("cookie", "breadcrumb", "skip-link")
# A cookie notice or breadcrumb trail is a few lines; a long container with such a class (an
# article tagged "url-breadcrumb" for analytics) is the content itself.
_MAX_MARKED_CHARS = 1500
# Words outside links an <aside> needs to be taken for an article: a short paragraph.
ASIDE_PROSE_WORDS = 40
# Words of its own a block needs for a social-network link in it to be part of a sentence
# ("follow our work on our Twitter account") rather than a share or follow bar.
_PROSE_WORDS = 3
# More headings than this in a row, with no text between them, are a widget, never text.
MAX_HEADINGS_IN_A_RUN = 3


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

    # An aside that reads as prose is content in the wrong box: both judges see it as a plain
    # container (trafilatura drops every <aside> by tag, so it is given the page that way too).
    kept = main_text(str(soup) if _open_prose_asides(soup) else body)
    sections: list[Section] = []
    if kept is not None:
        # trafilatura finds the content wherever it is, so walk the whole page and let it judge
        # each block our boilerplate rules left standing.
        scope = soup.body if soup.body is not None else soup
        _remove_boilerplate(scope)
        declared = scope.find("main") or scope.select_one("[role=main]")
        builder = _SectionBuilder(keep=kept.keeps, links_from=declared,
                                  keep_whole=kept.keeps_whole)
        builder.walk(scope)
        title = builder.first_h1 or _strip_site_suffix(page_title) or url
        sections, link_tags = builder.finish(title), builder.links
    if not sections:
        # No verdict from trafilatura, or it kept nothing our rules kept: the main element
        # decides alone, so trafilatura is never the reason a page yields nothing.
        fallback = BeautifulSoup(body, "lxml")
        _open_prose_asides(fallback)
        main = _main_content(fallback)
        _remove_boilerplate(main)
        builder = _SectionBuilder()
        builder.walk(main)
        title = builder.first_h1 or _strip_site_suffix(page_title) or url
        sections, link_tags = builder.finish(title), main.find_all("a", href=True)
    text_sample = " ".join(s.text for s in sections[:20])
    links = _links(link_tags, base, url)
    return ExtractedDocument(
        title=title,
        doc_type="html",
        language=html_lang or language_hint or detect_language(text_sample),
        sections=sections,
        links=list(links),
        link_texts={link: text for link, text in links.items() if text},
        canonical_url=canonical,
        updated_at=updated_date.from_html(body),
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


def _words_outside_links(tag: Tag) -> int:
    all_words = len(tag.get_text(" ").split())
    return all_words - sum(len(a.get_text(" ").split()) for a in tag.find_all("a"))


def _open_prose_asides(soup: BeautifulSoup) -> bool:
    """Turn each <aside> that holds the page's article into a plain <div>; whether any was.

    A sidebar is links, or teasers beside an article that is elsewhere on the page; an aside
    is the article when it holds a paragraph's worth of words outside its links and at least
    as many as all the rest of the page does.
    """
    asides = [a for a in soup.find_all("aside") if a.find_parent("aside") is None]
    if not asides:
        return False
    prose = {id(a): _words_outside_links(a) for a in asides}
    if max(prose.values()) < ASIDE_PROSE_WORDS:
        return False  # the usual sidebars: no need to count the whole page
    total = _words_outside_links(soup)
    opened = False
    for aside in asides:
        own = prose[id(aside)]
        if own >= ASIDE_PROSE_WORDS and own >= total - sum(prose.values()):
            aside.name = "div"
            opened = True
    return opened


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


def _is_boilerplate(tag: Tag, prose: dict[int, bool]) -> bool:
    if tag.name == "form":
        # Search boxes and feedback forms go; ASP.NET pages wrap the whole page in a <form>.
        return _is_short(tag)
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
    if any(m in marks for m in _MARKS) and _is_short(tag):
        return True
    if "breadcrumb" in str(tag.get("aria-label") or "").lower():
        return True
    if tag.name == "a":
        return _is_skip_link(tag) or (_is_social_link(tag) and not _in_prose(tag, prose))
    return False


def _is_short(tag: Tag) -> bool:
    if tag.name in ("html", "body", "main", "article"):
        return False
    return len(tag.get_text(" ", strip=True)) <= _MAX_MARKED_CHARS


def _is_skip_link(a: Tag) -> bool:
    href = str(a.get("href") or "").strip()
    return href in _SKIP_TARGETS or (href.startswith("#") and bool(_SKIP_TEXT.match(a.text)))


def _is_social_link(a: Tag) -> bool:
    host = (urlsplit(str(a.get("href") or "").strip()).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in _SOCIAL_HOSTS)


def _in_prose(a: Tag, prose: dict[int, bool]) -> bool:
    """Whether a link sits in a sentence: its block has words of its own besides links.
    `prose` remembers each block's answer: a block of ten thousand links is counted once."""
    block = a.find_parent(lambda t: t.name in _BLOCKS or t.name in _HEADINGS
                          or t.name in ("td", "th"))
    if block is None:
        return False
    if id(block) not in prose:
        prose[id(block)] = _words_outside_links(block) >= _PROSE_WORDS
    return prose[id(block)]


def _remove_boilerplate(main: Tag) -> None:
    prose: dict[int, bool] = {}
    doomed = [t for t in main.find_all(True) if _is_boilerplate(t, prose)]
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


@dataclass
class _Heading:
    level: int
    text: str
    anchor: str | None
    # False until main content follows it: trafilatura often drops headings, even real ones,
    # so a heading counts if it was kept or the first block under it was.
    confirmed: bool
    # Whether a section was written under it. One that never gets one (a standfirst set as a
    # heading, a closing line set as one) is text, not a heading: it is written as text.
    written: bool = False
    # Whether any text came after it, and whether it is the last element of its parent with
    # main content just before it: a closing line set as a heading, which trafilatura drops
    # as a heading with nothing under it, is kept when it ends the content it belongs to.
    followed: bool = False
    after_kept: bool = False
    # Whether the judge kept this very heading as a block of its own.
    kept_whole: bool = False


class _SectionBuilder:
    """Walks the page in document order, cutting sections at headings."""

    def __init__(
        self, keep: Callable[[str], bool] | None = None, links_from: Tag | None = None,
        keep_whole: Callable[[str], bool] | None = None,
    ) -> None:
        # keep(text) says whether a block is main content; None keeps every block.
        # keep_whole(text): whether that very block was kept, not only its words elsewhere
        # (a teaser's headline often repeats a phrase of the article).
        self.keep = keep
        self.keep_whole = keep_whole
        # Links inside the page's declared <main> are followed even from blocks `keep` drops:
        # trafilatura drops lists of document links as link-dense, and a hub is mostly those.
        self.links_from = links_from
        self.sections: list[Section] = []
        # <a href> elements of kept blocks, in document order.
        self.links: list[Tag] = []
        self.pending_links: list[Tag] = []
        self.stack: list[_Heading] = []
        # The first <h1> with main content under it: the page's title.
        self.first_h1: str | None = None
        self.blocks: list[str] = []
        self.inline: list[str] = []
        self.prefix = ""
        # Link text of the open block; characters of the section's kept blocks, all and in
        # blocks that are mostly a link, so a section that lists links can say so.
        self.inside_link = 0
        self.inline_link: list[str] = []
        self.section_chars = self.section_link_chars = 0
        # Headings in a row with no text between them, and those of them to write as text.
        self.heading_run = 0
        self.held_as_text: list[Section] = []

    def _kept(self, text: str) -> bool:
        return self.keep is None or self.keep(text)

    def _settle_headings(self, kept: bool) -> None:
        # The first block under unconfirmed headings decides them: a sidebar's "Related
        # articles" has no kept block under it, so later text is not filed beneath it.
        if kept:
            for heading in self.stack:
                if not heading.confirmed:
                    heading.confirmed = True
                    if heading.level == 1 and self.first_h1 is None:
                        self.first_h1 = heading.text
        else:
            self.stack = [h for h in self.stack if h.confirmed]

    def flush_block(self) -> None:
        text = _clean("".join(self.inline))
        link_chars = len(_clean("".join(self.inline_link)))
        self.inline = []
        self.inline_link = []
        if not text:
            # Links wrapping only an image or a block keep waiting for the block's words.
            return
        self._end_heading_run()
        kept = self._kept(text)
        for heading in self.stack:
            heading.followed = True
        self._settle_headings(kept)
        if kept:
            self.blocks.append(self.prefix + text)
            self.links.extend(self.pending_links)
            self.section_chars += len(text)
            # A block that is mostly a link ("Title of a guide (PDF, External link)") counts
            # whole: a list of documents reads as links even with their labels around them.
            if link_chars >= LINK_BLOCK_SHARE * len(text):
                self.section_link_chars += len(text)
        elif self.links_from is not None:
            self.links.extend(a for a in self.pending_links if self._in_declared_main(a))
        self.pending_links = []
        # Only the first block of a list item gets the bullet.
        self.prefix = ""

    def _in_declared_main(self, tag: Tag) -> bool:
        return any(parent is self.links_from for parent in tag.parents)

    def end_section(self) -> None:
        self.flush_block()
        if self.blocks:
            # An empty path (text before any heading) is filled with the title at the end.
            path = [h.text for h in self.stack]
            anchor = self.stack[-1].anchor if self.stack else None
            share = self.section_link_chars / self.section_chars if self.section_chars else 0.0
            self.sections.append(Section(path, "\n\n".join(self.blocks), anchor,
                                         link_share=round(share, 3)))
            for heading in self.stack:
                heading.written = True
        self.blocks = []
        self.section_chars = self.section_link_chars = 0

    def heading(self, tag: Tag) -> None:
        text = _clean(tag.get_text(" "))
        if not text:
            return
        self.end_section()
        kept = self.keep is not None and self.keep(text)
        if self.keep is None or kept or self._in_declared_main(tag):
            self.links.extend(tag.find_all("a", href=True))
        level = int(tag.name[1])
        self.heading_run += 1
        popped: list[_Heading] = []
        while self.stack and self.stack[-1].level >= level:
            popped.append(self.stack.pop())
        self._write_as_text(popped[::-1])
        # A closing line set as a heading ends its parent, right after main content.
        before = tag.find_previous_sibling(True)
        after_kept = (self.keep is not None and before is not None
                      and tag.find_next_sibling(True) is None
                      and before.name not in _HEADINGS and self.keep(before.get_text(" ")))
        # A heading that is a link is a teaser for another page, never this page's text.
        teaser = _is_link_text(tag, text)
        kept_whole = not teaser and (
            self.keep is None or (self.keep_whole is not None and self.keep_whole(text)))
        self.stack.append(_Heading(level, text, _heading_anchor(tag), False,
                                   after_kept=after_kept and not teaser, kept_whole=kept_whole))
        if self.keep is None or kept:
            self._settle_headings(True)

    def _write_as_text(self, headings: list[_Heading]) -> None:
        """Hold headings that no section came under as a section of text of their own,
        under the headings still open, until the run of headings they are in ends."""
        lines = [h for h in headings
                 if (h.kept_whole or (h.after_kept and not h.followed)) and not h.written]
        if lines:
            self.held_as_text.append(Section([h.text for h in self.stack],
                                             "\n\n".join(h.text for h in lines),
                                             lines[0].anchor))

    def _end_heading_run(self, title: str | None = None) -> None:
        # A standfirst or a closing line is one heading among one or two others; a longer run
        # of headings with no text between them is a widget (teasers, a sign-up box).
        if self.heading_run <= MAX_HEADINGS_IN_A_RUN:
            self.sections.extend(s for s in self.held_as_text
                                 if s.text not in (title, self.first_h1))
        self.held_as_text = []
        self.heading_run = 0

    def finish(self, title: str) -> list[Section]:
        self.end_section()
        first = next((n for n, h in enumerate(self.stack) if not h.written), len(self.stack))
        self.stack, unwritten = self.stack[:first], self.stack[first:]
        self._write_as_text(unwritten)
        self._end_heading_run(title)
        for section in self.sections:
            section.heading_path = section.heading_path or [title]
        return self.sections

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, _SKIPPED_STRINGS):
                    self.inline.append(str(child))
                    if self.inside_link:
                        self.inline_link.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            if child.name in _HEADINGS:
                self.heading(child)
                continue
            if child.name == "a" and child.has_attr("href"):
                self.pending_links.append(child)
                self.inside_link += 1
                try:
                    self.walk(child)
                finally:
                    self.inside_link -= 1
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


def _is_link_text(tag: Tag, text: str) -> bool:
    """Whether an element's text is mostly, or inside, a link."""
    if tag.find_parent("a", href=True) is not None:
        return True
    link_chars = sum(len(_clean(a.get_text(" "))) for a in tag.find_all("a", href=True))
    return link_chars >= LINK_BLOCK_SHARE * len(text)


def _links(anchors: Iterable[Tag], base: str, page_url: str) -> dict[str, str]:
    """Each absolute http(s) link once, in document order, with the text of its first
    anchor (what a reader of the page would call it)."""
    page = urldefrag(page_url)[0]
    seen: dict[str, str] = {}
    for a in anchors:
        href = str(a["href"]).strip()
        if not href or href.startswith("#"):
            continue
        absolute = urldefrag(urljoin(base, href))[0]
        if urlsplit(absolute).scheme not in ("http", "https") or absolute == page:
            continue
        if not seen.get(absolute):
            seen[absolute] = " ".join(a.get_text(" ").split())
    return seen
