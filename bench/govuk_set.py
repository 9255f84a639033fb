"""The GOV.UK extraction set: real GOV.UK bodies in full pages, scored against themselves.

Run from the repo root: `.venv/bin/python bench/govuk_set.py [--out DIR]` writes the set;
`bench/extraction.py` builds it on the fly when it is missing and scores it beside the article
benchmark.

The article benchmark (`../shared/data/article-extraction-benchmark`) is news and blogs. This set
is the kind of page Hubsearch crawls: government guidance. Each GOV.UK content item in
`../shared/data/govuk-content` (its `details.body`, or each part of a multi-part guide) is set in
a page with GOV.UK's own furniture, its words taken from the GOV.UK Welsh/English interface
strings shipped with the data: the cookie banner, skip link, header and menu, breadcrumbs,
"From ... Published ..." metadata, a contents list, "Print this page", the "Is this page useful?"
form, a "Related content" aside of links to other items, and the footer with its licence line.
The truth is the body itself: its text, block by block (`articleBody`), and its headings, so a
rule that loses a heading or keeps the furniture shows.

The layout is the article benchmark's, so one scorer reads both: `ground-truth.json` (id ->
`url`, `articleBody`, `headings`) and `html/<id>.html.gz`. Items whose body has fewer than
`MIN_WORDS` words are left out (a two-line answer page scores its furniture, not extraction).
Nothing here is committed: the set is made from the shared data in place, the same each time.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "govuk-content"
DEFAULT_OUT = ROOT / "bench" / ".cache" / "govuk-extraction"
MIN_WORDS = 80
RELATED_LINKS = 5
# Elements whose text stands as a block of its own in the truth (a reader sees a break).
_BLOCKS = {
    "p", "div", "section", "article", "ul", "ol", "li", "dl", "dt", "dd", "blockquote",
    "table", "tr", "caption", "figure", "figcaption", "pre", "address", "details", "summary",
    "h1", "h2", "h3", "h4", "h5", "h6", "br", "hr",
}  # fmt: skip
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")


def item_bodies(item: dict) -> list[tuple[str, str]]:
    """(title, body HTML) of an item's body and of each part of a multi-part guide."""
    details = item.get("details") or {}
    out = []
    for title, body in [(item.get("title") or "Untitled", details.get("body")), *(
        (f"{item.get('title', '')}: {part.get('title', '')}", part.get("body"))
        for part in details.get("parts") or []
    )]:
        if isinstance(body, list):
            body = next((b.get("content") for b in body if b.get("content_type") == "text/html"),
                        "")
        if isinstance(body, str) and body.strip():
            out.append((title, body))
    return out


def _strings(lang: str) -> dict[str, str]:
    """GOV.UK's interface strings in `lang` ("en" or "cy"), by key without `components.`."""
    column = 2 if lang == "cy" else 1
    with (DATA / "locales" / "en_cy_pairs.tsv").open(encoding="utf-8", newline="") as pairs:
        rows = csv.reader(pairs, delimiter="\t")
        return {row[0].removeprefix("components."): row[column] for row in rows if len(row) > 2}


def body_truth(body: str) -> tuple[str, list[str]]:
    """The body's text, one block per line as a reader sees it, and its headings' text."""
    root = lxml_html.fragment_fromstring(body, create_parent="div")
    for tag in root.iter("script", "style"):
        tag.drop_tree()
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
        element.text = "\n" + (element.text or "")
    text = "\n".join(" ".join(line.split()) for line in root.text_content().splitlines())
    headings = [" ".join(h.text_content().split()) for h in root.iter(*_HEADINGS)]
    return "\n".join(line for line in text.splitlines() if line), [h for h in headings if h]


def _page(item: dict, title: str, body: str, related: list[tuple[str, str]],
          words: dict[str, str]) -> str:
    lang = "cy" if item.get("locale") == "cy" else "en"
    esc = html.escape
    organisations = ", ".join(
        o.get("title", "") for o in (item.get("links") or {}).get("organisations") or []
    ) or "GOV.UK"
    published = str(item.get("first_published_at") or item.get("public_updated_at") or "")[:10]
    updated = str(item.get("public_updated_at") or "")[:10]
    crumbs = "".join(f'<li class="govuk-breadcrumbs__list-item"><a href="{href}">{esc(name)}</a>'
                     "</li>" for name, href in (("GOV.UK", "/"), (organisations, "/government")))
    contents = "".join(
        f'<li><a href="#h{n}">{esc(text)}</a></li>'
        for n, text in enumerate(body_truth(body)[1][:8])
    )
    links = "".join(f'<li><a href="{href}">{esc(name)}</a></li>' for name, href in related)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{esc(title)} - GOV.UK</title></head><body class=\"govuk-template__body\">"
        '<div class="govuk-cookie-banner" role="region" aria-label="Cookies on GOV.UK">'
        f'<h2>{esc(words["cookie_banner.title"])}</h2>'
        "<p>We use some essential cookies to make this website work. We'd like to set "
        "additional cookies to understand how you use GOV.UK, remember your settings and "
        "improve government services.</p>"
        f'<button>{esc(words["cookie_banner.buttons.accept_cookies"])}</button>'
        f'<button>{esc(words["cookie_banner.buttons.reject_cookies"])}</button></div>'
        '<a href="#main-content" class="govuk-skip-link">Skip to main content</a>'
        '<header class="govuk-header" role="banner"><a href="/">GOV.UK</a>'
        f'<button>{esc(words["layout_header.menu"])}</button>'
        '<nav><ul><li><a href="/browse/benefits">Benefits</a></li>'
        '<li><a href="/browse/tax">Money and tax</a></li></ul></nav></header>'
        '<div class="govuk-width-container">'
        f'<div class="govuk-breadcrumbs"><ol>{crumbs}</ol></div>'
        '<main class="govuk-main-wrapper" id="main-content" role="main">'
        f'<h1 class="gem-c-title__text">{esc(title)}</h1>'
        f'<div class="gem-c-metadata"><dl><dt>{esc(words["metadata.from"])}:</dt>'
        f'<dd><a href="/government/organisations">{esc(organisations)}</a></dd>'
        f'<dt>{esc(words["metadata.published"])}</dt><dd>{esc(published)}</dd>'
        f'<dt>{esc(words["metadata.last_updated"])}</dt><dd>{esc(updated)}</dd></dl></div>'
        + (f'<nav class="gem-c-contents-list" aria-label="{esc(words["contents_list.contents"])}">'
           f'<h2>{esc(words["contents_list.contents"])}</h2><ol>{contents}</ol></nav>'
           if contents else "")
        + f'<div class="govuk-govspeak">{body}</div>'
        f'<a class="gem-c-print-link" href="#print">{esc(words["print_link.text"])}</a>'
        f'<div class="gem-c-published-dates">{esc(words["metadata.published"])} {published}'
        "</div>"
        '<form class="gem-c-feedback" action="/contact/govuk/problem_reports">'
        f'<h2>{esc(words["feedback.is_this_page_useful"])}</h2>'
        f'<button>{esc(words["feedback.is_useful"])}</button>'
        f'<button>{esc(words["feedback.is_not_useful"])}</button>'
        f'<a href="/contact">{esc(words["feedback.something_wrong"])}</a>'
        f'<p>{esc(words["feedback.help_us_improve_govuk"])}</p></form>'
        "</main>"
        '<aside class="gem-c-related-navigation" role="complementary">'
        f'<h2>{esc(words["related_navigation.related_content"])}</h2><ul>{links}</ul></aside>'
        "</div>"
        '<footer class="govuk-footer" role="contentinfo"><ul>'
        '<li><a href="/help">Help</a></li><li><a href="/help/privacy-notice">Privacy</a></li>'
        '<li><a href="/help/cookies">Cookies</a></li>'
        '<li><a href="/help/accessibility-statement">Accessibility statement</a></li>'
        '<li><a href="/contact">Contact</a></li></ul>'
        "<p>All content is available under the Open Government Licence v3.0, except where "
        "otherwise stated</p><p>© Crown copyright</p></footer></body></html>"
    )


def pages() -> Iterator[tuple[str, str, str, list[str], str]]:
    """(id, url, truth text, truth headings, page HTML) of each body long enough to score."""
    files = sorted((DATA / "content_schemas" / "examples").rglob("*.json"))
    items = []
    for file in files:
        try:
            item = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(item, dict):
            items.append((file, item))
    titles = [(item.get("title") or "", item.get("base_path") or "/") for _, item in items]
    words = {lang: _strings(lang) for lang in ("en", "cy")}
    for n, (file, item) in enumerate(items):
        lang = "cy" if item.get("locale") == "cy" else "en"
        # The next items' titles: real GOV.UK titles, different on every page.
        related = [titles[(n + k) % len(titles)] for k in range(1, RELATED_LINKS + 1)]
        for m, (title, body) in enumerate(item_bodies(item)):
            text, headings = body_truth(body)
            if len(text.split()) < MIN_WORDS:
                continue
            url = "https://www.gov.uk" + (item.get("base_path") or f"/{file.stem}")
            yield (f"{file.parent.parent.name}-{file.stem}-{m}", url, text, headings,
                   _page(item, title, body, related, words[lang]))


def build(out: Path) -> int:
    """Write the set to `out` (replacing what was there); how many pages it holds."""
    (out / "html").mkdir(parents=True, exist_ok=True)
    truth = {}
    for key, url, text, headings, page in pages():
        # mtime=0: the same bytes on every build.
        (out / "html" / f"{key}.html.gz").write_bytes(
            gzip.compress(page.encode("utf-8"), mtime=0))
        truth[key] = {"url": url, "articleBody": text, "headings": headings}
    (out / "ground-truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True),
                                           encoding="utf-8")
    (out / "README.txt").write_text(
        "Made by bench/govuk_set.py from ../shared/data/govuk-content (Crown copyright, Open "
        "Government Licence v3.0; interface strings MIT, alphagov/govuk_publishing_components)."
        "\nNot for committing: rebuild it with `.venv/bin/python bench/govuk_set.py`.\n",
        encoding="utf-8")
    return len(truth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write")
    args = parser.parse_args(argv)
    if not (DATA / "content_schemas").is_dir():
        print(f"error: GOV.UK data not found: {DATA}", file=sys.stderr)
        return 2
    print(f"RESULT pages={build(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
