"""A normal install works: the wheel, installed into a fresh venv outside the source tree with
the pip that venv ships, runs `hubsearch demo` to a first search answer.

The venv's pip is left as it ships on purpose: it is the pip a new operator has, and the one
that skips justext's lxml[html_clean] extra unless lxml_html_clean is declared directly.
Dependencies come from the package registry (CI reaches it), so this takes minutes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # minutes: a wheel build and a pip install

REPO = Path(__file__).resolve().parent.parent
# What a wheel is built from; the rest (.venv, node_modules, data, caches) stays behind.
SOURCES = ["pyproject.toml", "README.md", "search_server.py", "hubsearch_web",
           "hubsearch", "crawler", "indexer", "schedules"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    """The environment of a new operator's shell: no PYTHONPATH leading back to this checkout
    (with one, the venv's pip finds the source tree's hubsearch already installed)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=_env())
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv, outside the source tree, with the built wheel installed: its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Build from a copy so the in-tree build/ and egg-info stay out of the working tree.
    src = tmp / "src"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "data"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(src)],
         cwd=tmp, timeout=300)
    (wheel,) = dist.glob("hubsearch-*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp, timeout=120)
    pip_version = _run([str(venv / "bin" / "python"), "-m", "pip", "--version"], tmp, 60)
    started = time.monotonic()
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
         cwd=tmp, timeout=900)
    print(f"\n{pip_version.stdout.split(' from ')[0]}: installed {wheel.name} "
          f"with its dependencies in {time.monotonic() - started:.1f} s")
    return venv / "bin"


def test_the_installed_wheel_reports_its_version(installed, tmp_path):
    done = _run([str(installed / "hubsearch"), "--version"], cwd=tmp_path, timeout=60)
    print(done.stdout.strip())
    assert done.stdout.strip() == "hubsearch 0.1.0"
    help_text = _run([str(installed / "hubsearch"), "demo", "--help"], tmp_path, 60).stdout
    assert "usage: hubsearch demo" in help_text and "--port" in help_text


def test_the_installed_wheel_runs_the_demo_to_a_first_search_answer(installed, tmp_path):
    # The demo config ships inside the package; ask the installed code where it is.
    config = _run(
        [str(installed / "python"), "-c",
         "from hubsearch.demo_site import DEMO_CONFIG; print(DEMO_CONFIG)"],
        cwd=tmp_path, timeout=60,
    ).stdout.strip()
    assert "site-packages" in config and not config.startswith(str(REPO))
    port = _free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(installed / "hubsearch"), "demo", "--config", config, "--port", str(port)],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, text=True, env=_env(),
        )
    try:
        answer, started = None, time.monotonic()
        url = f"http://127.0.0.1:{port}/api/search?q=slavery"
        while answer is None and time.monotonic() - started < 180:
            assert proc.poll() is None, f"demo exited {proc.returncode}:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    answer = json.loads(response.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert answer is not None, f"no answer in 180 s:\n{log.read_text()}"
        print(f"first search answer after {time.monotonic() - started:.1f} s: "
              f"total {answer['total']}, top: {answer['results'][0]['title']!r}")
        output = log.read_text()
        # Every HTML page extracted: no "lxml.html.clean module is now a separate project".
        assert re.search(r"failed 1\b", output) and "separate project" not in output, output
        assert answer["total"] >= 1 and answer["results"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
