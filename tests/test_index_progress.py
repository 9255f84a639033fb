"""`hubsearch index` says how far a build is: a one-line log on stderr at most every
PROGRESS_SECONDS (documents indexed of total, passages, elapsed), so a long build under cron
or systemd is not silent; stdout keeps the one result line."""

from __future__ import annotations

import dataclasses
import json
import logging
import re

import pytest

from hubsearch.cli import main
from hubsearch.settings import StorageSettings
from hubsearch.stderr_handler import Stderr
from indexer import build

PROGRESS = re.compile(r"index: (\d+) of (\d+) documents, (\d+) passages, \d+ s elapsed$")


@pytest.fixture
def config(demo_crawl, tmp_path):
    """A config over the demo crawl's store, building into this test's own index."""
    settings, _ = demo_crawl
    path = tmp_path / "config.toml"
    path.write_text(
        "[storage]\n"
        f"store_path = {json.dumps(str(settings.storage.store_path))}\n"
        f"index_dir = {json.dumps(str(tmp_path / 'index'))}\n"
    )
    yield path
    logger = logging.getLogger("indexer.build")
    for handler in [h for h in logger.handlers if isinstance(h, Stderr)]:
        logger.removeHandler(handler)


def test_index_logs_progress_lines_on_stderr_during_a_full_build(config, capsys, monkeypatch):
    monkeypatch.setattr(build, "PROGRESS_SECONDS", 0.0)  # a line for every document
    assert main(["index", "--full", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[-1].endswith("documents read, writing the new generation")
    progress = [PROGRESS.search(line) for line in lines[:-1]]
    assert progress and all(progress), err
    done, total, passages = (int(n) for n in progress[-1].groups())
    assert done == total == len(progress) > 1
    assert f"{passages} passages written" in out
    assert [int(m.group(1)) for m in progress] == list(range(1, total + 1))


def test_a_build_logs_its_progress_through_logging_at_the_interval_asked(demo_crawl, tmp_path,
                                                                         caplog):
    settings, _ = demo_crawl
    settings = dataclasses.replace(settings, storage=StorageSettings(
        store_path=settings.storage.store_path, index_dir=tmp_path / "index"))
    with caplog.at_level(logging.INFO, logger="indexer.build"):
        result = build.build_index(settings, full=True, progress_seconds=0)
    lines = [r.getMessage() for r in caplog.records if r.name == "indexer.build"][:-1]
    assert len(lines) == result.documents
    assert PROGRESS.search(lines[-1]).groups() == (
        str(result.documents), str(result.documents), str(result.passages_written))


def test_on_a_terminal_the_progress_line_is_redrawn_in_place(config, capsys, monkeypatch):
    import os
    import pty

    import hubsearch.cli as cli

    controller, terminal = pty.openpty()
    screen = os.fdopen(terminal, "w", buffering=1)
    monkeypatch.setattr("sys.stderr", screen)
    monkeypatch.setattr(cli, "LIVE_PROGRESS_SECONDS", 0.0)  # a redraw for every document
    try:
        assert main(["index", "--full", "--config", str(config)]) == 0
    finally:
        screen.close()
        logger = logging.getLogger("indexer.build")
        for handler in [h for h in logger.handlers if isinstance(h, cli._LiveProgress)]:
            logger.removeHandler(handler)
    shown = b""
    os.set_blocking(controller, False)
    try:
        while chunk := os.read(controller, 65536):
            shown += chunk
    except (BlockingIOError, OSError):
        pass
    os.close(controller)
    text = shown.decode()
    redraws = re.findall(r"\rindex: (\d+) of (\d+) documents, \d+ passages, \d+ s elapsed"
                         r"\x1b\[K", text)
    assert len(redraws) > 1 and redraws[-1][0] == redraws[-1][1], text
    # The one other line clears the progress line first; the result goes to stdout.
    assert "\r\x1b[Kindex: " in text and "writing the new generation" in text
    assert "passages written" in capsys.readouterr().out
