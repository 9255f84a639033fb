"""`hubsearch demo` (what `make demo` runs): one command serves, crawls, indexes and searches."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from hubsearch.demo_site import DEMO_ROOT
from hubsearch.settings import load_settings


def test_demo_command_serves_a_search_page_that_finds_the_nrm_page():
    proc, url, output = _serve_demo("--config", str(DEMO_ROOT / "config.toml"))
    try:
        assert url, output
        assert re.search(r"crawl: fetched \d+, failed 1,", output)
        assert re.search(r"index: full, \d+ new, .* \d+ documents, \d+ passages", output)
        query = urllib.parse.urlencode({"q": "national referral mechanism"})
        with urllib.request.urlopen(f"{url}/api/search?{query}", timeout=10) as response:
            top = json.loads(response.read())["results"][0]
        assert top["doc_type"] == "pdf" and re.search(r"#page=\d+$", top["deep_link"])
        with urllib.request.urlopen(f"{url}/", timeout=10) as response:
            assert "Search the guidance" in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_port_in_use_is_one_line_before_any_crawl():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "hubsearch.cli", "demo",
             "--config", str(DEMO_ROOT / "config.toml"), "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )
    assert done.returncode != 0
    assert done.stdout == "", "nothing was served, crawled or indexed"
    lines = done.stderr.strip().splitlines()
    assert lines == [f"error: port {port} is in use on 127.0.0.1"]


def _serve_demo(*args: str, cwd=None) -> tuple[subprocess.Popen, str, str]:
    """`hubsearch demo ARGS --port 0` run in `cwd`, up to the line saying it serves."""
    proc = subprocess.Popen([sys.executable, "-m", "hubsearch.cli", "demo", *args,
                             "--port", "0"], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url, lines, deadline = None, [], time.monotonic() + 120
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
        url = match.group(1) if match else None
    return proc, url or "", "".join(lines)


def test_demo_without_config_ignores_the_real_config_and_keep_leaves_a_usable_store(tmp_path):
    # A ./config.toml naming a real-looking source: the demo must not crawl it.
    (tmp_path / "config.toml").write_text(
        "[[sources]]\nname = 'real'\nurl = 'https://guidance.invalid/hub'\n")
    kept = tmp_path / "kept"
    proc, url, output = _serve_demo("--keep", str(kept), cwd=tmp_path)
    try:
        assert url, output
        assert "guidance.invalid" not in output
        assert f"kept in {kept}" in output
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    config = str(kept / "config.toml")
    kept_sources = load_settings(kept / "config.toml").sources
    assert all(s.title and s.title_cy for s in kept_sources), "hub pages keep their titles"
    report = subprocess.run([sys.executable, "-m", "hubsearch.cli", "report", "--config",
                             config], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    assert "last crawl: run 1" in report.stdout
    found = subprocess.run([sys.executable, "-m", "hubsearch.cli", "search",
                            "national referral mechanism", "--json", "--config", config],
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 0 and json.loads(found.stdout)["results"], found.stderr
    # The terminal's counts are the page's: passages, in documents; a misspelling is named.
    said = [subprocess.run([sys.executable, "-m", "hubsearch.cli", "search",
                            "nationl referal mechanism", *extra, "--config", config],
                           capture_output=True, text=True, timeout=60).stdout
            for extra in ((), ("--json",))]
    lines, data = said[0].splitlines(), json.loads(said[1])
    assert lines[0] == f"{data['total_passages']} passages in {data['total']} documents", lines
    assert lines[1] == "did you mean: national referral mechanism"

    again = subprocess.run([sys.executable, "-m", "hubsearch.cli", "demo", "--keep",
                            str(kept), "--port", "0"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr == f"error: --keep {kept}: give a new or empty directory\n"
