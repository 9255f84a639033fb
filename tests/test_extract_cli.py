"""`hubsearch extract PATH_OR_URL`: JSON out, one-line errors, exit status, time bound."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler import extract
from crawler.document import ExtractionError

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "extract" / "guidance-page.html"


def run_extract(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubsearch.cli", "extract", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_extract_prints_the_document_as_json():
    proc = run_extract(str(FIXTURE))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["source"] == str(FIXTURE)
    assert data["doc_type"] == "html"
    assert data["title"] == "Getting help after coercive control"
    assert data["sections"][1]["anchor"] == "recognise"


def test_missing_file_gives_json_error_and_status_1():
    proc = run_extract("no/such/file.pdf")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data == {"source": "no/such/file.pdf", "error": "no such file: no/such/file.pdf"}
    assert "Traceback" not in proc.stderr


def test_corrupt_pdf_gives_one_line_error(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n")
    proc = run_extract(str(bad))
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert error.startswith("not a readable PDF") and "\n" not in error
    assert "Traceback" not in proc.stderr


def test_unsupported_file_is_reported(tmp_path):
    data = tmp_path / "notes.bin"
    data.write_bytes(b"\x00\x01\x02 plain bytes")
    proc = run_extract(str(data))
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["error"].startswith("unsupported content type")


def _slow(*args, **kwargs):
    time.sleep(30)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(),
    reason="the patched function only reaches a forked child",
)
def test_a_parse_that_hangs_is_killed_at_the_timeout(monkeypatch):
    monkeypatch.setattr(extract, "extract_document", _slow)
    started = time.monotonic()
    with pytest.raises(ExtractionError, match="timed out"):
        # fork: the patched parser reaches only a forked child.
        extract.extract_isolated(
            b"<html></html>", "https://x.example/", timeout=0.5, start_method="fork"
        )
    assert time.monotonic() - started < 5
