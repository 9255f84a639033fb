"""File locks: one crawl and one index build at a time per store, one config edit at a time.

A stage lock is a `filelock` lock file beside the document store (`hub.sqlite.crawl.lock`,
`hub.sqlite.index.lock`). On Linux and macOS it is an flock(2) lock, which the kernel drops
when its holder dies, even by `kill -9`, so a crash never leaves a stale lock to clear by
hand. Beside each lock its holder writes a small JSON (pid, command, since when), so a
refused run can say who holds it; that file is only advice, the lock itself is the truth.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from hubsearch.errors import HubsearchError

log = logging.getLogger(__name__)

# A busy lock is tried for this long before the run is refused: long enough to ride over a
# `report` that probes the crawl lock for an instant, short enough to answer at once.
REFUSE_AFTER_SECONDS = 2.0
# Config edits queue behind each other rather than fail: each takes milliseconds.
CONFIG_EDIT_WAIT_SECONDS = 60.0


_RUNS = {"crawl": "crawl", "index": "index build"}


class LockBusy(HubsearchError):
    """Another process holds the lock; the message names it."""


def lock_path(store_path: Path, stage: str) -> Path:
    return store_path.with_name(f"{store_path.name}.{stage}.lock")


def holder_path(store_path: Path, stage: str) -> Path:
    return store_path.with_name(f"{store_path.name}.{stage}.holder.json")


def _command() -> str:
    argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    if argv[0] in ("__main__.py", "cli.py"):  # `python -m hubsearch.cli ...`
        argv[0] = "hubsearch"
    return shlex.join(argv)[:200]


def read_holder(store_path: Path, stage: str) -> dict | None:
    """What the current holder wrote about itself, or None if nothing readable."""
    try:
        data = json.loads(holder_path(store_path, stage).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(holder: dict | None) -> str:
    if not holder:
        return "a process that has not said who it is"
    return (
        f"pid {holder.get('pid', '?')} ({holder.get('command', '?')}), "
        f"since {holder.get('since', '?')}"
    )


def _write_holder(store_path: Path, stage: str) -> None:
    path = holder_path(store_path, stage)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    data = {
        "pid": os.getpid(),
        "command": _command(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        # Only advice for a refused run's message; a full disk must not stop the stage here.
        tmp.unlink(missing_ok=True)


@contextmanager
def stage_lock(store_path: Path, stage: str, *, wait: bool = False) -> Iterator[None]:
    """Hold the `stage` ("crawl" or "index") lock of the store at `store_path`.

    Without `wait`, a busy lock raises LockBusy naming its holder; with it, one line says
    whom we wait for and we block until the holder finishes.
    """
    lock_file = lock_path(store_path, stage)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(lock_file)
        try:
            lock.acquire(timeout=REFUSE_AFTER_SECONDS)
        except Timeout:
            holder = describe_holder(read_holder(store_path, stage))
            if not wait:
                raise LockBusy(
                    f"another {_RUNS.get(stage, stage)} of {store_path} is running: {holder}; "
                    f"try again when it has finished, or use --wait"
                ) from None
            log.warning("%s: waiting for %s to finish", stage, holder)
            lock.acquire()
    except OSError as exc:
        raise HubsearchError(f"cannot lock {lock_file}: {exc.strerror or exc}") from None
    try:
        _write_holder(store_path, stage)
        yield
    finally:
        try:
            holder_path(store_path, stage).unlink(missing_ok=True)
        except OSError:
            pass  # stale advice is harmless: the lock below is what counts
        lock.release()


def probe_idle(store_path: Path, stage: str) -> FileLock | None:
    """The `stage` lock, held, if nobody holds it now; None if it is busy (or no store).

    For readers (the report) that only need to know no run is in progress at this instant;
    the caller must release it promptly.
    """
    if not store_path.exists():
        return None
    return _try(FileLock(lock_path(store_path, stage)))


def _try(lock: FileLock) -> FileLock | None:
    try:
        lock.acquire(timeout=0)
    except (Timeout, OSError):
        return None
    return lock


@contextmanager
def config_edit_lock(config_path: Path) -> Iterator[None]:
    """Serialise edits of a config file: a sidecar lock, since the file itself is replaced
    atomically (a lock on the file would stay with the old inode)."""
    real = Path(os.path.realpath(config_path))
    if not real.is_file():
        yield  # nothing to edit: the edit itself reports the missing file
        return
    lock_file = real.with_name(f".{real.name}.lock")
    try:
        lock = FileLock(lock_file)
        lock.acquire(timeout=CONFIG_EDIT_WAIT_SECONDS)
    except Timeout:
        raise LockBusy(
            f"{config_path} is being edited by another process; try again"
        ) from None
    except OSError as exc:
        raise HubsearchError(f"cannot lock {lock_file}: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()
