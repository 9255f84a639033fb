"""Behind a real reverse proxy: Debian's nginx, started on a loopback port with the location
block the docs ship (deploy/nginx-hubsearch.conf), proxies /guidance-search/ to `hubsearch
serve`. A person following the page's own links (the stylesheet, the form, paging, "more in
this document") never leaves the sub-path; maintainers' pages stay off the public side; and a
client cannot make itself look like an inside address."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import free_port, serve_config

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/guidance-search"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (make test installs Debian's nginx-light)")


def _start_hubsearch(config: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubsearch.cli", "serve", "--config", str(config),
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line or "Application startup complete" in line:
            break
    return proc, port


def _start_nginx(tmp: Path, backend: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    location = (ROOT / "deploy" / "nginx-hubsearch.conf").read_text()
    location = location.replace("http://127.0.0.1:8000/", f"http://127.0.0.1:{backend}/")
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir()
    (tmp / "nginx.conf").write_text(f"""
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        {location}
    }}
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
                             "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz-of-nginx", timeout=2)
        except urllib.error.HTTPError:
            break  # nginx answers (404 outside the location): it is up
        except OSError:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
    return proc, port


@pytest.fixture
def proxied(demo_index, tmp_path):
    settings, _ = demo_index
    config = serve_config(tmp_path, settings,
                          f'root_path = "{PREFIX}"\ntrusted_proxies = ["127.0.0.1"]\n'
                          'status_networks = ["10.0.0.0/8"]\n')
    hubsearch, backend = _start_hubsearch(config)
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    nginx, port = _start_nginx(nginx_dir, backend)
    try:
        yield f"http://127.0.0.1:{port}", backend, nginx_dir
    finally:
        nginx.terminate()
        hubsearch.terminate()
        nginx.wait(timeout=20)
        hubsearch.wait(timeout=20)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("content-type", ""), \
                response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read().decode()


def test_following_the_pages_own_links_never_leaves_the_sub_path(proxied):
    base, _, nginx_dir = proxied
    status, _, html = _get(f"{base}{PREFIX}")  # without the slash: redirected to it
    assert status == 200 and "Search the guidance" in html
    page = BeautifulSoup(html, "html.parser")
    assert page.find("form", attrs={"role": "search"})["action"] == f"{PREFIX}/"
    stylesheet = page.find("link", rel="stylesheet")["href"]
    assert stylesheet.startswith(f"{PREFIX}/static/")
    status, kind, _ = _get(f"{base}{stylesheet}")
    assert status == 200 and kind.startswith("text/css")

    # The form, as a browser submits it: GET to its action (two a page, to have pages).
    url = f"{base}{PREFIX}/?" + urllib.parse.urlencode({"q": "guidance", "limit": "2"})
    status, _, html = _get(url)
    assert status == 200
    page = BeautifulSoup(html, "html.parser")
    following = urllib.parse.urljoin(url, page.find("a", rel="next")["href"])
    assert following.startswith(f"{base}{PREFIX}/?") and "offset=2" in following
    status, _, html = _get(following)
    assert status == 200
    page = BeautifulSoup(html, "html.parser")
    back = urllib.parse.urljoin(following, page.find("a", rel="prev")["href"])
    assert back.startswith(f"{base}{PREFIX}/?")
    assert page.select_one(".service-name a")["href"] == f"{PREFIX}/"

    more = BeautifulSoup(_get(url)[2], "html.parser").select_one("p.more a")
    in_document = urllib.parse.urljoin(url, more["href"])
    status, _, html = _get(in_document)
    assert status == 200 and "Showing every matching passage in" in html
    page = BeautifulSoup(html, "html.parser")
    everything = page.find("a", string=re.compile("Back to results from all documents"))
    assert urllib.parse.urljoin(in_document, everything["href"]).startswith(
        f"{base}{PREFIX}/?")

    log = (nginx_dir / "access.log").read_text()
    assert f"GET {PREFIX}/static/" in log and "offset=2" in log


def test_status_and_metrics_stay_off_the_public_side_even_with_a_forged_address(proxied):
    base, backend, _ = proxied
    for path in ("/status", "/api/status", "/metrics"):
        assert _get(f"{base}{PREFIX}{path}")[0] == 404
        # A client claiming an inside address: nginx replaces the header with its own view.
        assert _get(f"{base}{PREFIX}{path}", {"X-Forwarded-For": "10.1.2.3"})[0] == 404
    status, _, body = _get(f"{base}{PREFIX}/api/search?q=guidance")
    assert status == 200 and json.loads(body)["results"]
    assert _get(f"http://127.0.0.1:{backend}/healthz")[0] == 200


def _post_form(url: str, size: int) -> tuple[int, str]:
    body = urllib.parse.urlencode({"urls": "x" * size}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("server", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("server", "")


def test_a_maintainers_form_up_to_the_servers_limit_passes_the_proxy_and_a_bigger_body_does_not(
        proxied):
    base, _, nginx_dir = proxied
    # A 12 KiB form (fifteen long source addresses) reaches Hubsearch, which answers it (here
    # 404: this client is not on a maintainers' network), not nginx's 413.
    status, server = _post_form(f"{base}{PREFIX}/admin/sources", 12 * 1024)
    assert status == 404, (status, server, (nginx_dir / "error.log").read_text()[-600:])
    # Past Hubsearch's own 16 KiB limit nginx refuses it without passing it on.
    status, server = _post_form(f"{base}{PREFIX}/admin/sources", 64 * 1024)
    assert status == 413 and server.startswith("nginx"), (status, server)
