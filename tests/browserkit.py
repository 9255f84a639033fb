"""What the browser tests share: Debian's Chromium driven by Playwright, and axe-core for
accessibility checks. `make test` installs both (see the Makefile's `browser`); the
`browser` fixture is in conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

needs_browser = pytest.mark.skipif(
    CHROMIUM is None or not AXE.exists(),
    reason="needs Debian's chromium and node_modules/axe-core: `make test` installs both",
)

# The closed network here refuses Chromium's background connections; these flags stop them.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
NARROWEST = {"width": 320, "height": 640}


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def search(page, base: str, words: str) -> None:
    """Type `words` into the search box of the home page and wait for the results."""
    page.goto(base + "/")
    page.get_by_label("Search the guidance").fill(words)
    page.keyboard.press("Enter")
    page.wait_for_selector("#results-heading")


def tab_to(page, name: str, *, prefix: bool = False, limit: int = 60) -> None:
    """Press Tab, as a keyboard user would, until the focused element's label or text is
    `name` (or starts with it, with `prefix`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return (e.labels && e.labels[0] ? e.labels[0].innerText"
            " : e.innerText || e.value) || ''; }").strip()
        if focused.startswith(name) if prefix else focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")
