"""The bundled demo hub: the loopback server's behaviour and the shape of the site it serves."""

from __future__ import annotations

import dataclasses
import http.client
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
from email.message import Message
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from bs4 import BeautifulSoup

from hubsearch.demo_site import (
    DEMO_HUB,
    DEMO_ROOT,
    PLACEHOLDER_BASE,
    DemoSite,
    load_redirects,
    settings_for_site,
)
from hubsearch.settings import load_settings

SITE = DEMO_HUB / "site"
HUB = "/guidance-for-professionals/supporting-clients-slavery/"
NRM_PDF = "/external/gov-wales/safeguarding-children-trafficked-practice-guidance.pdf"
MOVED = "/external/gov-wales/publications/2021/support-workers-handbook.pdf"
MISSING = "/external/barnardos-cymru/missing-children-exploitation-toolkit.pdf"


@pytest.fixture(scope="module")
def site():
    with DemoSite() as served:
        yield served


def fetch(url: str) -> tuple[int, Message, bytes]:
    """GET following redirects; (status, headers, body) also for 4xx answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def raw_get(site: DemoSite, path: str) -> http.client.HTTPResponse:
    """GET without following redirects."""
    parts = urllib.parse.urlsplit(site.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def hub(site: DemoSite, lang: str) -> BeautifulSoup:
    status, headers, body = fetch(f"{site.base_url}{HUB}?lang={lang}")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    return BeautifulSoup(body, "lxml")


def document_links(page: BeautifulSoup) -> list:
    return page.select("main ul.documents a[href]")


def pdf_page_texts(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def test_hub_page_served_in_english_and_welsh(site):
    english, welsh = hub(site, "en"), hub(site, "cy")
    assert english.html["lang"] == "en" and welsh.html["lang"] == "cy"
    for page in (english, welsh):
        assert page.select_one('a.skip-link[href="#main"]')
        assert page.select_one("header nav")
        banner = page.select_one("div.cookie-banner#cookie-banner")
        assert banner and len(banner.find_all("button")) == 2
        main = page.select_one("main#main")
        assert main.h1 and len(main.find_all("h2")) >= 3
        assert len(main.select("ul.courses li")) >= 3
        social = " ".join(a["href"] for a in page.select("footer a[href]"))
        for host in ("facebook.com", "x.com", "instagram.com", "youtube.com"):
            assert host in social
    assert "Skip to content" in english.get_text()
    assert "caethwasiaeth" in welsh.main.get_text().lower()


def test_hub_without_lang_serves_english_and_lang_cy_without_welsh_page_falls_back(site):
    status, _, body = fetch(f"{site.base_url}{HUB}")
    assert status == 200 and b'<html lang="en">' in body
    status, _, body = fetch(f"{site.base_url}/?lang=cy")
    assert status == 200 and b'<html lang="en">' in body


def test_hub_pages_link_six_to_ten_guidance_documents_marked_external(site):
    english, welsh = hub(site, "en"), hub(site, "cy")
    en_links, cy_links = document_links(english), document_links(welsh)
    assert 6 <= len(en_links) <= 10 and 6 <= len(cy_links) <= 10
    for a in en_links:
        assert a.next_sibling.strip() == "(External link)"
    for a in cy_links:
        assert a.next_sibling.strip() == "(Dolen allanol)"
    en_hrefs = {a["href"] for a in en_links}
    cy_hrefs = {a["href"] for a in cy_links}
    assert en_hrefs < cy_hrefs, "the Welsh hub links the same documents plus a Welsh one"


def test_every_hub_link_is_served_except_the_deliberate_404(site):
    for lang in ("en", "cy"):
        page_url = f"{site.base_url}{HUB}?lang={lang}"
        missing = []
        checked = 0
        for a in hub(site, lang).find_all("a", href=True):
            url = urllib.parse.urljoin(page_url, a["href"])
            if not url.startswith(site.base_url):
                continue  # social media links: not ours to fetch
            status, _, _ = fetch(url)
            checked += 1
            if status == 404:
                missing.append(urllib.parse.urlsplit(url).path)
            else:
                assert status == 200, url
        assert checked >= 10
        assert missing == [MISSING]


def test_moved_document_answers_301_to_existing_target(site):
    response = raw_get(site, MOVED)
    assert response.status == 301
    target = response.getheader("Location")
    assert target == "/external/gov-wales/modern-slavery-support-workers-handbook.pdf"
    status, headers, body = fetch(site.base_url + target)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert body.startswith(b"%PDF")


def test_redirect_keeps_the_query_string(site):
    response = raw_get(site, MOVED + "?lang=cy")
    assert response.status == 301
    assert response.getheader("Location").endswith(".pdf?lang=cy")


def test_missing_document_answers_404(site):
    assert raw_get(site, MISSING).status == 404
    assert not (SITE / MISSING.lstrip("/")).exists()


def test_unknown_paths_and_bare_directories_answer_404(site):
    for path in ("/no/such/page.html", "/external/", "/external/gov-wales/", "/private/x"):
        assert raw_get(site, path).status == 404, path


def test_documents_have_content_type_and_last_modified(site):
    for path, ctype in ((NRM_PDF, "application/pdf"),
                        ("/external/hwb/keeping-learners-safe.html", "text/html; charset=utf-8"),
                        ("/robots.txt", "text/plain; charset=utf-8")):
        response = raw_get(site, path)
        assert response.status == 200
        assert response.getheader("Content-Type") == ctype
        assert response.getheader("Last-Modified")


def test_robots_txt_allows_everything_but_private(site):
    _, _, body = fetch(f"{site.base_url}/robots.txt")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode().splitlines())
    assert robots.can_fetch("Hubsearch", f"{site.base_url}{HUB}?lang=en")
    assert robots.can_fetch("Hubsearch", f"{site.base_url}{NRM_PDF}")
    assert not robots.can_fetch("Hubsearch", f"{site.base_url}/private/anything")


def test_nrm_is_explained_on_page_two_or_later_of_the_pdf(site):
    status, _, data = fetch(site.base_url + NRM_PDF)
    assert status == 200
    pages = pdf_page_texts(data)
    assert 3 <= len(pages) <= 6
    assert "National Referral Mechanism" not in pages[0]
    explained = [i for i, text in enumerate(pages) if "National Referral Mechanism" in text]
    assert explained and min(explained) >= 1
    page = pages[explained[0]]
    for idea in ("first responder", "consent", "Single Competent Authority",
                 "reasonable grounds", "conclusive grounds"):
        assert idea in page, idea
    pdf = pdfium.PdfDocument(data)
    try:
        outline = {b.get_title(): b.get_dest().get_index() for b in pdf.get_toc()}
    finally:
        pdf.close()
    assert outline["The National Referral Mechanism"] == explained[0]


def test_nrm_is_explained_nowhere_else_in_the_site():
    for path in SITE.rglob("*.html"):
        assert "National Referral Mechanism" not in path.read_text(encoding="utf-8"), path
    for path in SITE.rglob("*.pdf"):
        if path.name != Path(NRM_PDF).name:
            text = " ".join(pdf_page_texts(path.read_bytes()))
            assert "National Referral Mechanism" not in text, path


def test_pdfs_are_small_multi_page_with_title_and_outline():
    pdfs = sorted(SITE.rglob("*.pdf"))
    assert len(pdfs) >= 3
    for path in pdfs:
        assert path.stat().st_size < 60 * 1024, path
        pdf = pdfium.PdfDocument(path)
        try:
            assert 3 <= len(pdf) <= 6, path
            assert pdf.get_metadata_dict()["Title"], path
            outline = list(pdf.get_toc())
            assert len(outline) >= 4 and {b.level for b in outline} == {0, 1}, path
            first_text = pdf[0].get_textpage().get_text_range()
            assert outline[0].get_title() in first_text, "headings are drawn as well"
        finally:
            pdf.close()


def test_committed_pdfs_match_build_script(tmp_path):
    subprocess.run([sys.executable, str(DEMO_ROOT / "build_pdfs.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=120)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.pdf"))
    assert built == sorted(p.relative_to(SITE) for p in SITE.rglob("*.pdf"))
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (SITE / rel).read_bytes(), (
            f"{rel} is stale: run examples/demo-hub/build_pdfs.py"
        )


def test_html_documents_have_main_h1_and_anchored_h2_h3():
    pages = sorted((SITE / "external").rglob("*.html"))
    assert len(pages) >= 4
    for path in pages:
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
        assert page.html.get("lang") in ("en", "cy"), path
        assert page.header and page.header.nav and page.footer, path
        main = page.main
        assert main and main.h1, path
        headings = main.find_all(["h2", "h3"])
        assert len(headings) >= 4 and main.find("h3"), path
        ids = [h.get("id") for h in headings]
        assert all(ids) and len(set(ids)) == len(ids), path
        assert len(main.find_all("p")) >= 5, path


def test_duty_to_notify_page_has_an_anchored_section_explaining_it(site):
    status, _, body = fetch(f"{site.base_url}/external/home-office/duty-to-notify.html")
    assert status == 200
    section = BeautifulSoup(body, "lxml").find(id="what-the-duty-to-notify-means")
    assert section.name == "h2"
    text = " ".join(p.get_text() for p in section.find_next_siblings("p", limit=2))
    assert "Home Office" in text and "anonymous" in text
    assert 60 <= len(text.split()) <= 250


def test_welsh_language_document_is_linked_from_welsh_hub_only(site):
    welsh_doc = "/external/gov-wales/canllaw-caethwasiaeth-fodern.html"
    assert welsh_doc in {a["href"] for a in document_links(hub(site, "cy"))}
    assert welsh_doc not in {a["href"] for a in document_links(hub(site, "en"))}
    status, _, body = fetch(site.base_url + welsh_doc)
    assert status == 200 and b'<html lang="cy">' in body


def test_redirect_targets_exist_in_the_site():
    redirects = load_redirects(DEMO_HUB / "redirects.toml")
    assert redirects
    for old, new in redirects.items():
        assert not (SITE / old.lstrip("/")).exists()
        assert (SITE / new.lstrip("/")).is_file(), new


def test_site_stays_small():
    files = [p for p in SITE.rglob("*") if p.is_file()]
    assert len(files) <= 15
    assert not (SITE / "private").exists()


def test_settings_for_site_rewrites_placeholder():
    settings = load_settings(DEMO_ROOT / "config.toml")
    assert [s.url.startswith(PLACEHOLDER_BASE) for s in settings.sources] == [True, True]
    rewritten = settings_for_site(settings, "http://127.0.0.1:5555/")
    assert [s.url for s in rewritten.sources] == [
        f"http://127.0.0.1:5555{HUB}?lang=en",
        f"http://127.0.0.1:5555{HUB}?lang=cy",
    ]
    assert [s.language for s in rewritten.sources] == ["en", "cy"]
    assert dataclasses.replace(rewritten, sources=settings.sources) == settings


def test_settings_for_site_leaves_other_urls_alone():
    settings = load_settings(DEMO_ROOT / "config.toml")
    other = dataclasses.replace(settings.sources[0], url="https://example.org/hub")
    settings = dataclasses.replace(settings, sources=(other,))
    assert settings_for_site(settings, "http://127.0.0.1:1").sources == (other,)


def test_demo_config_crawls_the_local_site_without_delay():
    settings = load_settings(DEMO_ROOT / "config.toml")
    assert settings.crawl.download_delay == 0
    assert settings.crawl.depth_limit == 1
    assert [s.name for s in settings.sources] == ["demo-slavery-en", "demo-slavery-cy"]
    assert settings.storage.store_path == DEMO_ROOT / "data" / "hub.sqlite"


def test_demo_site_stops_and_frees_its_port():
    with DemoSite() as served:
        base = served.base_url
        assert base.startswith("http://127.0.0.1:") and not base.endswith("/")
        assert fetch(f"{base}{HUB}?lang=en")[0] == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{base}{HUB}", timeout=2)
