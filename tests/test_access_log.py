"""The access log `hubsearch serve` writes: one line a request on stderr with method, path,
status and duration, never the query string (staff queries may name people); text by
default, JSON lines when server.access_log_format = "json"."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, serve_config

from hubsearch.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
NAME = "Thistlewoodsen"  # a word standing for a person's name in a staff query


def _serve_one_search(config: Path) -> tuple[str, str]:
    """Start `hubsearch serve`, search once for a query naming NAME, stop: (stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubsearch.cli", "serve", "--config", str(config),
         "--host", "127.0.0.1", "--port", str(free_port())],
        cwd=ROOT, env=os.environ.copy(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        started, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            started.append(line)
            if "Application startup complete" in line:
                break
        match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", "".join(started))
        assert match, "server did not start:\n" + "".join(started)
        query = urllib.parse.urlencode({"q": f"{NAME} return home"})
        with urllib.request.urlopen(f"{match.group(1)}/api/search?{query}", timeout=30) as r:
            assert r.status == 200
        time.sleep(0.3)  # the line is written after the response's last byte
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=20)
    return stdout, "".join(started) + stderr


def _access_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "/api/search" in line]


def test_serve_writes_one_text_access_line_per_request_without_the_query(demo_index,
                                                                         tmp_path):
    settings, _ = demo_index
    stdout, stderr = _serve_one_search(serve_config(tmp_path, settings))
    lines = _access_lines(stderr)
    assert len(lines) == 1, stderr
    assert re.search(r"GET /api/search 200 \d+\.\dms$", lines[0]), lines[0]
    assert NAME not in stdout + stderr
    assert "q=" not in stdout + stderr


def test_serve_writes_json_access_lines_when_the_setting_says_so(demo_index, tmp_path):
    settings, _ = demo_index
    config = serve_config(tmp_path, settings, 'access_log_format = "json"\n')
    stdout, stderr = _serve_one_search(config)
    lines = _access_lines(stderr)
    assert len(lines) == 1, stderr
    entry = json.loads(lines[0])
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/search"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["time"]
    assert NAME not in stdout + stderr


def test_an_unknown_access_log_format_is_a_one_line_config_error(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[server]\naccess_log_format = "xml"\n')
    with pytest.raises(ConfigError, match="server.access_log_format.*'text' or 'json'"):
        load_settings(config)
