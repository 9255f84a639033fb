"""Rules that judge a page's parts by what they hold, not by tag or host alone: an article set
in an `<aside>`, a social-network link inside a sentence, a heading with no text of its own
under it. Each page here is written for its test."""

from __future__ import annotations

from crawler.extract_html import extract_html

URL = "https://guidance.example.org/page"

# Prose long enough for the main-content judge to weigh: a paragraph per topic.
_PARAS = [
    "Staff who notice signs that a child may have been trafficked should write down what they "
    "saw and heard, in the child's own words where possible, and share it the same day with "
    "the designated safeguarding lead rather than waiting for a meeting.",
    "A child who is moved between addresses, who carries more than one phone, or who is "
    "collected by adults they cannot name may be under the control of others, and each of "
    "these signs is worth recording even when the child denies that anything is wrong.",
    "Interpreters must never be family members or people the child has been seen with, "
    "because they may be part of the exploitation, and the child will not speak freely in "
    "front of them about what has happened to them.",
    "Where there is immediate danger the police are called first; otherwise the local "
    "authority's children's services take the referral and decide within one working day "
    "whether a strategy discussion is needed.",
]


def _text(doc) -> str:
    return "\n".join(s.text for s in doc.sections)


def _headings(doc) -> set[str]:
    return {h for s in doc.sections for h in s.heading_path}


def _shell(inside: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><title>Example guidance</title></head><body>'
        '<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a>'
        f"</nav></header>{inside}<footer><p>Example Trust, 1 High Street.</p></footer>"
        "</body></html>"
    )


def test_an_article_set_inside_an_aside_is_kept():
    # Some site builders put the whole story in the "complementary" column.
    article = "".join(f"<p>{p}</p>" for p in _PARAS)
    page = _shell(f"<main><aside class='story'><h1>Spotting trafficking</h1>{article}"
                  "</aside></main>")
    doc = extract_html(page, URL)
    assert "interpreters must never be family members" in _text(doc).lower()
    assert "strategy discussion" in _text(doc)
    assert doc.title == "Spotting trafficking"


def test_a_sidebar_aside_of_links_is_still_dropped():
    article = "".join(f"<p>{p}</p>" for p in _PARAS)
    sidebar = ("<aside><h2>More from us</h2><ul>"
               + "".join(f'<li><a href="/n/{n}">Our autumn fair raised funds {n}</a></li>'
                         for n in range(6))
               + "</ul></aside>")
    doc = extract_html(_shell(f"<main><h1>Spotting trafficking</h1>{article}</main>{sidebar}"),
                       URL)
    assert "autumn fair" not in _text(doc) and "More from us" not in _headings(doc)
    assert "strategy discussion" in _text(doc)


def test_a_social_network_link_inside_a_sentence_keeps_its_words():
    said = ("The charity posts a short summary of every change to the guidance on its "
            '<a href="https://twitter.com/examplecharity">Twitter account</a> and on its '
            '<a href="https://www.facebook.com/examplecharity">Facebook page</a>, so '
            "practitioners can see at a glance what is new before reading the full text.")
    article = "".join(f"<p>{p}</p>" for p in _PARAS[:2]) + f"<p>{said}</p>"
    doc = extract_html(_shell(f"<main><h1>Keeping up to date</h1>{article}</main>"), URL)
    assert ("on its Twitter account and on its Facebook page, so practitioners"
            in _text(doc))


def test_a_bar_of_social_links_is_still_dropped():
    article = "".join(f"<p>{p}</p>" for p in _PARAS)
    bar = ('<ul class="share"><li><a href="https://twitter.com/intent/tweet">Twitter</a></li>'
           '<li><a href="https://www.facebook.com/sharer">Facebook</a></li>'
           '<li><a href="https://www.linkedin.com/share">LinkedIn</a></li></ul>')
    doc = extract_html(_shell(f"<main><h1>Spotting trafficking</h1>{bar}{article}</main>"),
                       URL)
    assert "LinkedIn" not in _text(doc) and "Facebook" not in _text(doc)


def test_a_standfirst_set_as_a_heading_before_the_next_heading_keeps_its_text():
    page = _shell(
        "<main><h1>Spotting trafficking</h1>"
        "<h4>What every member of staff should look for, and who to tell the same day</h4>"
        f"<h2 id='signs'>Signs</h2><p>{_PARAS[0]}</p><p>{_PARAS[1]}</p>"
        f"<h2 id='act'>Acting on them</h2><p>{_PARAS[2]}</p><p>{_PARAS[3]}</p></main>")
    doc = extract_html(page, URL)
    standfirst = "What every member of staff should look for, and who to tell the same day"
    assert standfirst in _text(doc)
    # It is text, not a heading the next sections are filed under.
    assert [s.heading_path for s in doc.sections if "designated" in s.text] == [
        ["Spotting trafficking", "Signs"]]


def test_a_last_heading_with_nothing_under_it_keeps_its_text():
    page = _shell(
        f"<main><h1>Spotting trafficking</h1><p>{_PARAS[0]}</p><p>{_PARAS[1]}</p>"
        f"<h2>Acting on them</h2><p>{_PARAS[2]}</p><p>{_PARAS[3]}</p>"
        "<h3>If in doubt, ring the safeguarding lead before the end of your shift</h3></main>")
    doc = extract_html(page, URL)
    assert "If in doubt, ring the safeguarding lead before the end of your shift" in (
        _text(doc))


def test_a_lone_heading_is_not_written_twice_when_it_is_the_title():
    page = _shell(f"<main><h1>Spotting trafficking</h1><p>{_PARAS[0]}</p></main>")
    doc = extract_html(page, URL)
    assert doc.title == "Spotting trafficking"
    assert "Spotting trafficking" not in _text(doc)


def test_a_paragraph_of_four_thousand_social_links_is_judged_once_not_per_link():
    import time

    links = "".join(f'<a href="https://twitter.com/u{n}">u{n}</a> ' for n in range(4_000))
    page = _shell(f"<main><h1>Spotting trafficking</h1><p>{_PARAS[0]}</p><p>{links}</p></main>")
    started = time.monotonic()
    doc = extract_html(page, URL)
    assert time.monotonic() - started < 60  # judged per link, it took minutes
    assert "u3999" not in _text(doc)
