"""The maintainers' pages in a real browser, keyboard only: sign in, the start page, status,
the audit log, sign out; each page without serious or critical axe-core violations."""

from __future__ import annotations

import pytest
from browserkit import LAPTOP, PHONE, axe_violations, needs_browser, tab_to

pytestmark = needs_browser


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_a_maintainer_signs_in_looks_around_and_signs_out_by_keyboard(
        open_page, live_server, live_maintainer, viewport):
    name, password = live_maintainer
    page = open_page(viewport)
    page.goto(live_server.url + "/admin")
    assert page.url.startswith(live_server.url + "/admin/login?next=")
    assert axe_violations(page) == []

    tab_to(page, "Name")
    page.keyboard.type(name)
    tab_to(page, "Password")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=alert]")
    assert "do not match" in page.locator("[role=alert]").inner_text()
    assert axe_violations(page) == []

    tab_to(page, "Password")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Maintainers\\' start')")
    assert name in page.locator(".admin-nav").inner_text()
    assert axe_violations(page) == []

    tab_to(page, "Audit log")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Audit log')")
    text = page.locator("table").inner_text()
    assert "sign-in failed" in text and "signed in" in text
    assert axe_violations(page) == []

    tab_to(page, "Sources")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Sources')")
    assert page.locator("table.status-table tbody tr").count() >= 2
    assert axe_violations(page) == []

    for link, heading in (("Crawl now", "Crawl now"), ("Link health", "Link health")):
        tab_to(page, link)
        page.keyboard.press("Enter")
        page.wait_for_selector(f"h1:text('{heading}')")
        assert axe_violations(page) == [], link

    tab_to(page, "Status and link health")
    page.keyboard.press("Enter")
    page.wait_for_selector("#attention-heading")
    assert axe_violations(page) == []

    tab_to(page, "Sign out")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Sign in to maintain the service')")
    page.goto(live_server.url + "/status")
    assert "/admin/login" in page.url
