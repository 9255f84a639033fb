"""A crawl says how it is going while it runs: on a terminal one line redrawn in place, in a
log (cron, systemd) a timestamped line every few seconds; then its result line."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time

from conftest import serve_config, settings_for
from sitekit import Page, ScriptedSite, html_page

DOCS = ["/docs/one.html", "/docs/two.html", "/docs/slow.html"]


def _slow(handler) -> None:
    # One document takes a while, so the crawl outlasts a progress interval.
    time.sleep(6)
    body = html_page("Slow guide", ["Guidance that took its time to arrive."]).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _site(site: ScriptedSite) -> None:
    site.routes["/hub"] = Page(html_page("Hub", ["Guidance for professionals."], DOCS))
    site.routes["/docs/one.html"] = Page(html_page("One", ["The first guide's text."]))
    site.routes["/docs/two.html"] = Page("gone", status=410, content_type="text/plain")
    site.routes["/docs/slow.html"] = _slow


def _config(tmp_path, site) -> str:
    settings = settings_for(tmp_path, f"{site.url}/hub", download_delay=0.0)
    text = serve_config(tmp_path, settings).read_text()
    crawl = ("[crawl]\nallow_private_networks = true\nretry_times = 0\n"
             "download_delay = 0\n")
    sources = f"[[sources]]\nname = 'hub'\nurl = '{site.url}/hub'\n"
    path = tmp_path / "crawl.toml"
    path.write_text(crawl + text + sources)
    return str(path)


def test_a_crawl_logs_a_progress_line_every_few_seconds_when_not_on_a_terminal(tmp_path):
    with ScriptedSite() as site:
        _site(site)
        done = subprocess.run([sys.executable, "-m", "hubsearch.cli", "crawl", "--config",
                               _config(tmp_path, site)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " crawl: " in line]
    assert lines, done.stderr
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d crawl: \d+ fetched, 1 failed, "
                        r"\d+ queued, \d+\.\d MB, \d+ s elapsed", lines[0]), lines[0]
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    assert done.stdout.startswith("crawl: fetched 3, failed 1,")


def test_on_a_terminal_the_progress_line_is_redrawn_in_place_then_cleared(tmp_path):
    with ScriptedSite() as site:
        _site(site)
        controller, terminal = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "hubsearch.cli", "crawl", "--config",
                                 _config(tmp_path, site)],
                                stdout=subprocess.PIPE, stderr=terminal, text=True)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the crawl closed its end
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = proc.communicate(timeout=120)
        os.close(controller)
    text = shown.decode(errors="replace")
    redraws = re.findall(r"\rcrawl: \d+ fetched, \d+ failed, \d+ queued, [\d.]+ MB, "
                         r"\d+ s elapsed\x1b\[K", text)
    assert len(redraws) >= 5, text  # every half second while the slow document arrives
    assert "\r\x1b[K" in text, "the line is cleared for the result line"
    assert proc.returncode == 0 and stdout.startswith("crawl: fetched 3, failed 1,")
