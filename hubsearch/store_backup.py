"""Backing up the document store while the service runs (`hubsearch backup PATH`).

The store is the one thing that cannot be rebuilt: the index is made from it, but the
fetch history, last good copies of documents that have since vanished, and crawl runs are
not anywhere else. SQLite's online backup copies a consistent snapshot page by page while a
crawl may be writing (the store is in WAL mode, so readers never wait for it). The copy is
written beside its target and renamed into place only once it has been checked, so a
failed or interrupted backup never leaves a file that looks like a good one.

Restore (docs/deploy.md): stop the services, copy the backup over `storage.store_path`
(removing any `-wal` and `-shm` files beside it), then `hubsearch index --full`.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from hubsearch.errors import HubsearchError
from hubsearch.store import SCHEMA_VERSION, DocumentStore

PAGES_PER_STEP = 4096  # 16 MB at SQLite's default page size: the writer waits no longer


class BackupError(HubsearchError):
    """A backup that could not be made; nothing was left at the target."""


@dataclass
class Backup:
    path: Path
    documents: int
    bytes: int
    seconds: float

    def line(self) -> str:
        return (f"backup: {self.documents} documents, {self.bytes / 1e6:.1f} MB written to "
                f"{self.path} in {self.seconds:.1f} s")


def backup_store(store_path: Path, target: Path) -> Backup:
    """Copy the store at `store_path` to `target` (a new file, or a directory to put a
    dated file in)."""
    started = time.monotonic()
    if not store_path.is_file():
        raise BackupError(f"no document store at {store_path}")
    if target.is_dir():
        target = target / f"{store_path.stem}-{time.strftime('%Y%m%dT%H%M%S')}.sqlite"
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} already exists; give a new file name or a directory")
    if target.resolve() == store_path.resolve():
        raise BackupError("the backup cannot be the store itself")
    partial = target.with_name(target.name + ".partial")
    try:
        # Opening it as the stages do also brings an older store up to date first.
        with DocumentStore(store_path) as store:
            copy = sqlite3.connect(partial)
            try:
                store.db.backup(copy, pages=PAGES_PER_STEP)
                # One self-contained file: no WAL to carry along with it.
                copy.execute("PRAGMA journal_mode=DELETE")
                (check,) = copy.execute("PRAGMA quick_check").fetchone()
                (documents,) = copy.execute("SELECT count(*) FROM documents").fetchone()
                (version,) = copy.execute("PRAGMA user_version").fetchone()
            finally:
                copy.close()
        if check != "ok" or version != SCHEMA_VERSION:
            raise BackupError(f"the copy did not check out ({check}, schema {version})")
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise BackupError(f"backup failed: {getattr(exc, 'strerror', None) or exc}{where}") \
            from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, documents, target.stat().st_size, time.monotonic() - started)
