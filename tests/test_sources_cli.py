"""`hubsearch sources list|add|remove` edits config.toml in place, keeping comments and layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_CONFIG = REPO / "config.toml"


def hubsearch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubsearch.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    # The copy keeps using the repository's synonyms and best bets: configured files must
    # exist.
    text = REAL_CONFIG.read_text(encoding="utf-8")
    for name in ("synonyms", "best_bets"):
        assert f'{name}_path = "{name}.toml"' in text
        text = text.replace(f'{name}_path = "{name}.toml"', f"{name}_path = '{REPO}/{name}.toml'")
    path.write_text(text, encoding="utf-8")
    return path


def test_add_list_remove_round_trip_gives_back_the_file_byte_for_byte(config):
    original = config.read_bytes()
    url = "https://www.gov.wales/safeguarding-guidance"

    added = hubsearch(
        "sources",
        "add",
        url,
        "--name",
        "gov-wales-safeguarding",
        "--language",
        "en",
        "--config",
        str(config),
    )
    assert added.returncode == 0, added.stderr
    text = config.read_text(encoding="utf-8")
    assert text.startswith(original.decode("utf-8"))  # nothing before it moved
    for line in original.decode("utf-8").splitlines():
        assert line in text

    listed = hubsearch("sources", "list", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [row[0] for row in rows] == [
        "lff-slavery-en",
        "lff-slavery-cy",
        "gov-wales-modern-slavery",
        "gov-wales-safeguarding",
    ]
    assert rows[-1][1:3] == [url, "en"]

    removed = hubsearch("sources", "remove", "gov-wales-safeguarding", "--config", str(config))
    assert removed.returncode == 0, removed.stderr
    assert config.read_bytes() == original


def test_removing_a_middle_source_keeps_every_comment_and_the_other_sources(config):
    original = config.read_text(encoding="utf-8")
    proc = hubsearch("sources", "remove", "lff-slavery-cy", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    text = config.read_text(encoding="utf-8")
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in text.splitlines() if line.lstrip().startswith("#")] == comments
    assert "lang=cy" not in text
    listed = hubsearch("sources", "list", "--config", str(config))
    assert [row.split("\t")[0] for row in listed.stdout.splitlines()] == [
        "lff-slavery-en",
        "gov-wales-modern-slavery",
    ]


@pytest.mark.parametrize(
    ("url", "name", "reason"),
    [
        ("ftp://files.example.org/guide.pdf", "ftp-source", "not an http(s) URL"),
        ("not a url", "no-url", "not an http(s) URL"),
        ("https://", "no-host", "not an http(s) URL"),
        ("https://www.gov.wales/other", "lff-slavery-en", "already exists"),
        (
            "https://www.gov.wales/modern-slavery-guidance-professionals",
            "same-url",
            "already has the URL",
        ),
    ],
)
def test_add_refuses_a_bad_source_with_one_line_and_leaves_the_file_alone(
    config, url, name, reason
):
    original = config.read_bytes()
    proc = hubsearch("sources", "add", url, "--name", name, "--config", str(config))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert reason in lines[0]
    assert config.read_bytes() == original
    # No temp file left; the edit lock's sidecar (hubsearch/locks.py) stays, empty.
    assert sorted(p.name for p in config.parent.iterdir()) == [".config.toml.lock", "config.toml"]


def test_remove_refuses_an_unknown_name(config):
    original = config.read_bytes()
    proc = hubsearch("sources", "remove", "no-such-source", "--config", str(config))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:") and "no-such-source" in proc.stderr
    assert config.read_bytes() == original


def test_add_refuses_to_edit_an_invalid_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[server]\nport = "eighty"\n', encoding="utf-8")
    proc = hubsearch("sources", "add", "https://a.example/", "--name", "a", "--config", str(path))
    assert proc.returncode == 2
    assert "server.port" in proc.stderr and "not changed" in proc.stderr
    assert path.read_text(encoding="utf-8") == '[server]\nport = "eighty"\n'


@pytest.mark.parametrize(
    "command",
    [
        ["crawl"],
        ["index"],
        ["serve"],
        ["search"],
        ["extract"],
        ["sources"],
        ["sources", "add"],
        ["sources", "list"],
        ["sources", "remove"],
        ["schedule"],
        ["demo"],
    ],
    ids=" ".join,
)
def test_help_works_for_every_subcommand(command):
    proc = hubsearch(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--config" in proc.stdout
