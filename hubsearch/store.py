"""The SQLite document store: the only hand-over point between the crawler and the indexer.

The crawler records every fetch here (successes with their extracted structure, failures
with their reason) and one row per crawl run; the indexer reads the stored documents.
A failed fetch never overwrites the last good copy of a document.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crawler.document import ExtractedDocument

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    url             TEXT PRIMARY KEY,   -- the URL as requested (before redirects)
    final_url       TEXT,               -- where the last fetch ended after redirects
    source          TEXT NOT NULL,      -- name of the config source that led here
    status          INTEGER,            -- HTTP status of the last fetch; NULL if no response
    content_type    TEXT,
    etag            TEXT,
    last_modified   TEXT,
    sha256          TEXT,               -- of the body of the last good fetch
    bytes           INTEGER,
    fetched_at      TEXT,               -- last attempt, ISO 8601 UTC
    last_success_at TEXT,
    changed_at      TEXT,               -- when sha256 last changed
    redirects       TEXT NOT NULL DEFAULT '[]',  -- JSON: [[status, url], ...] hops followed
    error           TEXT,               -- one-line reason of the last failure; NULL if it worked
    title           TEXT,
    language        TEXT,
    doc_type        TEXT,
    document        TEXT                -- JSON of the ExtractedDocument of the last good fetch
);
CREATE TABLE IF NOT EXISTS crawl_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    fetched     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    new         INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0
);
"""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Fetch:
    """One successful download, as the crawler hands it to the store."""

    url: str
    final_url: str
    source: str
    status: int
    content_type: str
    sha256: str
    bytes: int
    document: ExtractedDocument
    etag: str | None = None
    last_modified: str | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class StoredDocument:
    url: str
    final_url: str
    source: str
    status: int | None
    content_type: str | None
    sha256: str | None
    fetched_at: str | None
    last_success_at: str | None
    redirects: list[list]
    error: str | None
    document: ExtractedDocument | None


@dataclass
class CrawlRun:
    id: int
    started_at: str
    finished_at: str | None
    fetched: int
    failed: int
    new: int
    changed: int
    unchanged: int
    bytes: int


class DocumentStore:
    """A connection to the store; safe to open from any stage, one writer at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # WAL lets the indexer read while a crawl writes.
        self.db = sqlite3.connect(path, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_fetch(self, fetch: Fetch) -> str:
        """Store a good fetch; return "new", "changed" or "unchanged"."""
        now = utc_now()
        row = self.db.execute(
            "SELECT sha256, changed_at FROM documents WHERE url = ?", (fetch.url,)
        ).fetchone()
        if row is None or row["sha256"] is None:
            outcome, changed_at = "new", now
        elif row["sha256"] != fetch.sha256:
            outcome, changed_at = "changed", now
        else:
            outcome, changed_at = "unchanged", row["changed_at"]
        doc = fetch.document
        with self.db:
            self.db.execute(
                """
                INSERT INTO documents (url, final_url, source, status, content_type, etag,
                    last_modified, sha256, bytes, fetched_at, last_success_at, changed_at,
                    redirects, error, title, language, doc_type, document)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)
                ON CONFLICT(url) DO UPDATE SET
                    final_url=excluded.final_url, source=excluded.source,
                    status=excluded.status, content_type=excluded.content_type,
                    etag=excluded.etag, last_modified=excluded.last_modified,
                    sha256=excluded.sha256, bytes=excluded.bytes,
                    fetched_at=excluded.fetched_at, last_success_at=excluded.last_success_at,
                    changed_at=excluded.changed_at, redirects=excluded.redirects, error=NULL,
                    title=excluded.title, language=excluded.language,
                    doc_type=excluded.doc_type, document=excluded.document
                """,
                (
                    fetch.url, fetch.final_url, fetch.source, fetch.status, fetch.content_type,
                    fetch.etag, fetch.last_modified, fetch.sha256, fetch.bytes, now, now,
                    changed_at, json.dumps(fetch.redirects), doc.title, doc.language,
                    doc.doc_type, json.dumps(doc.to_dict(), ensure_ascii=False),
                ),
            )
        return outcome

    def record_failure(
        self,
        url: str,
        source: str,
        reason: str,
        *,
        status: int | None = None,
        final_url: str | None = None,
        redirects: list[tuple[int, str]] | None = None,
    ) -> None:
        """Record a failed fetch; the last good copy (if any) is kept as it was."""
        with self.db:
            self.db.execute(
                """
                INSERT INTO documents (url, final_url, source, status, fetched_at, redirects, error)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(url) DO UPDATE SET
                    final_url=excluded.final_url, status=excluded.status,
                    fetched_at=excluded.fetched_at, redirects=excluded.redirects,
                    error=excluded.error
                """,
                (
                    url, final_url or url, source, status, utc_now(),
                    json.dumps(redirects or []), reason,
                ),
            )

    def start_run(self) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO crawl_runs (started_at) VALUES (?)", (utc_now(),))
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        keys = ("fetched", "failed", "new", "changed", "unchanged", "bytes")
        with self.db:
            self.db.execute(
                f"UPDATE crawl_runs SET finished_at = ?, {', '.join(f'{k} = ?' for k in keys)}"
                " WHERE id = ?",
                (utc_now(), *(int(counts.get(k, 0)) for k in keys), run_id),
            )

    def run(self, run_id: int) -> CrawlRun | None:
        row = self.db.execute("SELECT * FROM crawl_runs WHERE id = ?", (run_id,)).fetchone()
        return CrawlRun(**dict(row)) if row else None

    def last_run(self) -> CrawlRun | None:
        row = self.db.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        return CrawlRun(**dict(row)) if row else None

    def _stored(self, row: sqlite3.Row) -> StoredDocument:
        doc = ExtractedDocument.from_dict(json.loads(row["document"])) if row["document"] else None
        return StoredDocument(
            url=row["url"],
            final_url=row["final_url"] or row["url"],
            source=row["source"],
            status=row["status"],
            content_type=row["content_type"],
            sha256=row["sha256"],
            fetched_at=row["fetched_at"],
            last_success_at=row["last_success_at"],
            redirects=json.loads(row["redirects"] or "[]"),
            error=row["error"],
            document=doc,
        )

    def get(self, url: str) -> StoredDocument | None:
        row = self.db.execute("SELECT * FROM documents WHERE url = ?", (url,)).fetchone()
        return self._stored(row) if row else None

    def all(self) -> Iterator[StoredDocument]:
        """Every URL ever recorded, good or failed, in URL order."""
        for row in self.db.execute("SELECT * FROM documents ORDER BY url"):
            yield self._stored(row)

    def searchable(self) -> Iterator[StoredDocument]:
        """Documents with a last good copy to index, in URL order."""
        for row in self.db.execute(
            "SELECT * FROM documents WHERE document IS NOT NULL ORDER BY url"
        ):
            yield self._stored(row)
