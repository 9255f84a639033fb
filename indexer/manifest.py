"""The manifest of an index generation: which documents it holds, at which version.

An incremental build compares every searchable document's version with the current
generation's manifest and rewrites only what changed. Kept as one JSON file, the manifest was
read and written whole by every build (6 MB at 50k passages, 0.2 s a build; 24 MB at 200k)
and parsed whole by the status page for one date. Here it is an SQLite table in the
generation directory (`manifest.sqlite`): a build copies the previous one and changes the
rows of the documents it changed; a reader takes one row, or the key and version columns.

A generation never changes once switched in, so readers open it immutable (no locks, no
journal); the copy an incremental build writes is its own file, never a hard link shared
with the generation being served (indexer/generations.py links everything else).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

MANIFEST = "manifest.sqlite"
MAX_HEADINGS = 200  # per document, kept for suggestions

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    key      TEXT PRIMARY KEY,   -- the URL the document is indexed under
    id       TEXT NOT NULL,      -- document_id(key): the short id of /documents/{id}
    url      TEXT NOT NULL,      -- the URL as requested
    sha256   TEXT NOT NULL,
    version  TEXT NOT NULL,      -- what, changed, makes the build index it again
    passages INTEGER NOT NULL,
    title    TEXT NOT NULL DEFAULT '',
    headings TEXT NOT NULL DEFAULT '[]'  -- JSON: its distinct headings, for suggestions
);
CREATE INDEX IF NOT EXISTS documents_by_id ON documents (id);
CREATE INDEX IF NOT EXISTS documents_by_url ON documents (url);
"""


def document_id(url: str) -> str:
    """A document's short id: stable across generations and safe in a URL path."""
    return hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Entry:
    """One indexed document, as its generation's manifest records it."""

    url: str
    sha256: str
    version: str
    passages: int
    title: str = ""
    headings: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _reading(generation: Path) -> Iterator[sqlite3.Connection | None]:
    path = generation / MANIFEST
    if not path.is_file():
        yield None
        return
    db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1", uri=True)
    try:
        yield db
    finally:
        db.close()


def read_info(generation: Path) -> dict[str, Any] | None:
    """The generation's format and build time (`format`, `built_at`), or None if it has no
    readable manifest."""
    with _reading(generation) as db:
        if db is None:
            return None
        try:
            return {key: _decode(key, value) for key, value in db.execute(
                "SELECT key, value FROM meta")}
        except sqlite3.DatabaseError:
            return None


def versions(generation: Path) -> dict[str, str]:
    """Every indexed document's key and version."""
    with _reading(generation) as db:
        return dict(db.execute("SELECT key, version FROM documents")) if db else {}


def totals(generation: Path) -> tuple[int, int]:
    """(documents, passages) in the generation."""
    with _reading(generation) as db:
        if db is None:
            return 0, 0
        documents, passages = db.execute(
            "SELECT count(*), coalesce(sum(passages), 0) FROM documents").fetchone()
        return documents, passages


def by_id(generation: Path, doc_id: str) -> tuple[str, Entry] | None:
    """The key and entry of the document with short id `doc_id`, if indexed."""
    with _reading(generation) as db:
        row = db.execute("SELECT key, url, sha256, version, passages FROM documents "
                         "WHERE id = ?", (doc_id,)).fetchone() if db else None
    return (row[0], Entry(*row[1:])) if row else None


def key_for_url(generation: Path, url: str) -> str | None:
    """The key a document is indexed under, given that key or the URL it was requested
    by (a link on the hub that redirects, or names a page with a canonical link)."""
    with _reading(generation) as db:
        row = db.execute("SELECT key FROM documents WHERE key = ? UNION ALL "
                         "SELECT key FROM documents WHERE url = ? LIMIT 1",
                         (url, url)).fetchone() if db else None
    return row[0] if row else None


def distinct_headings(sections: Iterable[Any]) -> list[str]:
    """A document's headings, each once, in order (at most MAX_HEADINGS): what suggestions
    offer besides titles."""
    seen: dict[str, None] = {}
    for section in sections:
        for heading in section.heading_path[1:]:
            seen.setdefault(heading, None)
            if len(seen) == MAX_HEADINGS:
                return list(seen)
    return list(seen)


def titles_and_headings(generation: Path) -> Iterator[tuple[str, list[str]]]:
    """Every indexed document's title and headings."""
    with _reading(generation) as db:
        if db is None:
            return
        for title, headings in db.execute("SELECT title, headings FROM documents"):
            yield title, json.loads(headings)


def entries(generation: Path) -> dict[str, Entry]:
    """Every entry by key (for tools and tests: a build reads `versions`)."""
    with _reading(generation) as db:
        return {key: Entry(*rest) for key, *rest in db.execute(
            "SELECT key, url, sha256, version, passages FROM documents")} if db else {}


class ManifestWriter:
    """The manifest of a generation being built: a new one, or (`carry_over`) the copied
    previous one, changed row by row. Nothing is visible until `finish` commits.

    Its failures are OSErrors naming the file, as the index files' own are: a full disk
    fails the build with one line, whichever file the build was writing.
    """

    def __init__(self, generation: Path, *, carry_over: bool) -> None:
        self.path = generation / MANIFEST
        if carry_over and self.path.is_file():
            _unshare(self.path)
        else:
            self.path.unlink(missing_ok=True)
        with self._failing_as_os_error():
            self.db = sqlite3.connect(self.path, isolation_level=None)
            # A build is one transaction on a file nobody reads until the switch.
            self.db.execute("PRAGMA journal_mode=OFF")
            self.db.execute("PRAGMA synchronous=OFF")
            self.db.executescript(_SCHEMA)
            self.db.execute("BEGIN")

    @contextlib.contextmanager
    def _failing_as_os_error(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path)) from None
            raise OSError(errno.EIO, f"manifest not written: {exc}", str(self.path)) from None

    def remove(self, keys: Iterable[str]) -> None:
        with self._failing_as_os_error():
            self.db.executemany("DELETE FROM documents WHERE key = ?", ((k,) for k in keys))

    def put(self, key: str, entry: Entry) -> None:
        with self._failing_as_os_error():
            self.db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (key, document_id(key), entry.url, entry.sha256, entry.version,
                             entry.passages, entry.title,
                             json.dumps(entry.headings, ensure_ascii=False)))

    def finish(self, **meta: Any) -> tuple[int, int]:
        """Records `meta` (format, built_at), commits, and returns (documents, passages)."""
        with self._failing_as_os_error():
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                [(k, str(v)) for k, v in meta.items()])
            self.db.execute("COMMIT")
            documents, passages = self.db.execute(
                "SELECT count(*), coalesce(sum(passages), 0) FROM documents").fetchone()
        self.close()
        return documents, passages

    def close(self) -> None:
        if hasattr(self, "db"):
            self.db.close()


def _decode(key: str, value: str) -> Any:
    return int(value) if key == "format" and value.isdigit() else value


def _unshare(path: Path) -> None:
    """Make `path` a file of its own if it is a hard link to another generation's."""
    if path.stat().st_nlink > 1:
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        shutil.copyfile(path, tmp)
        tmp.replace(path)
