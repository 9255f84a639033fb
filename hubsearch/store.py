"""The SQLite document store: the only hand-over point between the crawler and the indexer.

The crawler records every fetch here (successes with their extracted structure, failures
with their reason) and one row per crawl run; the indexer reads the stored documents.
A failed fetch never overwrites the last good copy of a document.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from crawler.document import ExtractedDocument
from hubsearch.errors import HubsearchError
from hubsearch.urls import same_host

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
    state           TEXT NOT NULL DEFAULT 'ok',  -- ok | stale (last good copy kept) | gone
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    is_source       INTEGER NOT NULL DEFAULT 0,  -- 1 for a configured hub page
    last_run        INTEGER,            -- the crawl run that last requested this URL
    title           TEXT,
    language        TEXT,
    doc_type        TEXT,
    document        TEXT,               -- JSON of the ExtractedDocument of the last good fetch
    canonical_url   TEXT                -- the document's canonical link, read without its JSON
);
CREATE TABLE IF NOT EXISTS fetches (     -- every attempt, for a document's fetch history
    url         TEXT NOT NULL,
    run_id      INTEGER,
    at          TEXT NOT NULL,
    status      INTEGER,
    outcome     TEXT NOT NULL,             -- new | changed | unchanged | not modified | stale | ...
    error       TEXT,
    bytes       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS fetches_by_url ON fetches (url, at);
CREATE TABLE IF NOT EXISTS crawl_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    fetched     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    new         INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    gone        INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT,           -- NULL while running; then one of RUN_OUTCOMES
    error       TEXT            -- why a run is not 'finished', as one line
);
"""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# How a crawl run ended. 'store errors': it ran to the end but some outcomes could not be
# written (counted as failed); 'interrupted': stopped early by a signal, counts partial;
# 'killed': died without finishing, counts never recorded (found by the next crawl).
RUN_OUTCOMES = ("finished", "store errors", "interrupted", "killed")
INCOMPLETE_RUNS = ("interrupted", "killed")

# Statuses after which a document is dropped: 410 at once, 404 after N crawls in a row.
GONE_AT_ONCE = {410}
NOT_FOUND = {404}


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
    is_source: bool = False


def index_key_for(canonical_url: str | None, final_url: str) -> str:
    """The one URL a document is indexed under: its canonical link, else its final URL.

    A canonical link counts only on the host the document was fetched from (rows stored
    before the crawler checked this are held to the same rule).
    """
    if canonical_url and same_host(canonical_url, final_url):
        return canonical_url.split("#", 1)[0]
    return final_url


class DocumentRef(NamedTuple):
    """A searchable document's identity and version without its body.

    What the indexer compares with its manifest: decoding every stored body to learn that
    99% of them did not change would cost more than indexing the 1% that did. A named tuple,
    not a frozen dataclass: one is made per stored document at every build, and a tuple is
    made in C (~3 us a document less: 0.05 s at 50k passages).
    """

    url: str
    final_url: str
    source: str
    is_source: bool
    sha256: str | None
    last_success_at: str | None
    fetched_at: str | None
    canonical_url: str | None
    links: tuple[str, ...]  # a hub page's links (empty for other documents)
    last_modified: str | None = None  # the Last-Modified header of the stored copy

    @property
    def index_key(self) -> str:
        return index_key_for(self.canonical_url, self.final_url)


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
    changed_at: str | None
    redirects: list[list]
    error: str | None
    state: str
    consecutive_failures: int
    is_source: bool
    etag: str | None
    last_modified: str | None
    document: ExtractedDocument | None
    # The stored copy's title, read without decoding the document (None if no copy).
    title: str | None = None

    @property
    def index_key(self) -> str:
        """The URL this document is indexed under (see index_key_for)."""
        return index_key_for(self.document.canonical_url if self.document else None,
                             self.final_url)


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
    gone: int
    bytes: int
    outcome: str | None = None
    error: str | None = None

    @property
    def complete(self) -> bool:
        """The run went through every URL it meant to (its counts can be judged)."""
        return self.finished_at is not None and self.outcome not in INCOMPLETE_RUNS

    @property
    def failed_share(self) -> float:
        attempted = self.fetched + self.failed
        return self.failed / attempted if attempted else 0.0


def _crawl_run_outcomes(db: sqlite3.Connection) -> None:
    """0 -> 1: crawl runs record how they ended (stores made before the schema had a
    version; the step is a no-op for a store whose tables already have the columns)."""
    have = {r[1] for r in db.execute("PRAGMA table_info(crawl_runs)")}
    for column in ("outcome", "error"):
        if column not in have:
            db.execute(f"ALTER TABLE crawl_runs ADD COLUMN {column} TEXT")
    if "outcome" not in have:
        db.execute("UPDATE crawl_runs SET outcome = 'finished' WHERE finished_at IS NOT NULL")


def _canonical_url_column(db: sqlite3.Connection) -> None:
    """1 -> 2: each document's canonical link in a column, so the indexer lists documents
    without parsing every stored body (json_extract over 45 MB of JSON at 50k passages)."""
    have = {r[1] for r in db.execute("PRAGMA table_info(documents)")}
    if "canonical_url" not in have:
        db.execute("ALTER TABLE documents ADD COLUMN canonical_url TEXT")
    db.execute("UPDATE documents SET canonical_url = json_extract(document, '$.canonical_url')"
               " WHERE document IS NOT NULL")


_REVISION = "UPDATE revision SET n = n + 1; " \
    "UPDATE documents SET rev = (SELECT n FROM revision) WHERE url = NEW.url;"
# One statement each: a migration runs in one transaction, which executescript would commit.
_REVISIONS = (
    # `store` tells this store from another put in its place (a backup keeps it).
    "CREATE TABLE IF NOT EXISTS revision (id INTEGER PRIMARY KEY CHECK (id = 1), "
    "n INTEGER NOT NULL, store TEXT NOT NULL)",
    "INSERT OR IGNORE INTO revision VALUES (1, 0, lower(hex(randomblob(8))))",
    "CREATE INDEX IF NOT EXISTS documents_by_rev ON documents (rev)",
    f"CREATE TRIGGER IF NOT EXISTS documents_inserted AFTER INSERT ON documents "
    f"BEGIN {_REVISION} END",
    f"CREATE TRIGGER IF NOT EXISTS documents_updated AFTER UPDATE ON documents "
    f"WHEN NEW.rev IS OLD.rev BEGIN {_REVISION} END",
    f"CREATE TRIGGER IF NOT EXISTS fetch_logged AFTER INSERT ON fetches BEGIN {_REVISION} END",
)


def _revisions(db: sqlite3.Connection) -> None:
    """2 -> 3: every change to a document's row, or a fetch logged for it, stamps the row
    with the store's next revision number (SQLite triggers, so no write path can forget),
    so the status snapshot rewrites what changed since it last looked without comparing
    every row (hubsearch/status_snapshot.py)."""
    have = {r[1] for r in db.execute("PRAGMA table_info(documents)")}
    if "rev" not in have:
        db.execute("ALTER TABLE documents ADD COLUMN rev INTEGER NOT NULL DEFAULT 0")
    for statement in _REVISIONS:
        db.execute(statement)


_MAINTAINERS = (
    # Accounts made with `hubsearch users` (hubsearch/accounts.py): argon2id hashes only.
    "CREATE TABLE IF NOT EXISTS maintainers (name TEXT PRIMARY KEY, "
    "password_hash TEXT NOT NULL, created_at TEXT NOT NULL, changed_at TEXT NOT NULL)",
    # Signed-in sessions: the SHA-256 of each cookie's token, never the token.
    "CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "csrf TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS sessions_by_name ON sessions (name)",
    # Who did what and when (hubsearch/audit.py); never a password or a token.
    "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "
    "target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', "
    "client TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action, at)",
    # The key session cookies are signed with, made once per store.
    "CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


def _maintainers(db: sqlite3.Connection) -> None:
    """3 -> 4: maintainer accounts, their sessions and the audit log of what they did."""
    for statement in _MAINTAINERS:
        db.execute(statement)


# The store's schema version (SQLite's user_version) and the step from each earlier one.
# A change to a table adds a step here and a test that opens a store of the version before.
SCHEMA_VERSION = 4
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _crawl_run_outcomes, 1: _canonical_url_column, 2: _revisions, 3: _maintainers}


class StoreVersionError(HubsearchError):
    """A store written by a later version of hubsearch."""


class DocumentStore:
    """A connection to the store; safe to open from any stage, one writer at a time."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # WAL lets the indexer and the report read while a crawl writes.
        self.db = sqlite3.connect(path, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring a store made by an earlier version up to SCHEMA_VERSION, step by step; refuse
        one made by a later version (its tables may mean something this one cannot read)."""
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            self.db.close()
            raise StoreVersionError(
                f"document store {self.path} has schema version {version}, newer than this "
                f"hubsearch knows ({SCHEMA_VERSION}); upgrade hubsearch or restore a backup")
        with self.db:
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](self.db)
            if version != SCHEMA_VERSION:
                # PRAGMA takes no parameters; the value is our own integer.
                self.db.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> DocumentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- written by the crawler -------------------------------------------------------

    def record_fetch(self, fetch: Fetch, run_id: int | None = None) -> str:
        """Store a good fetch; return "new", "changed" or "unchanged" (same sha256)."""
        now = utc_now()
        row = self.db.execute(
            "SELECT sha256, changed_at, document FROM documents WHERE url = ?", (fetch.url,)
        ).fetchone()
        if row is None or row["sha256"] is None or row["document"] is None:
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
                    redirects, error, title, language, doc_type, document, canonical_url,
                    state, consecutive_failures, is_source, last_run)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 'ok', 0, ?, ?)
                ON CONFLICT(url) DO UPDATE SET
                    final_url=excluded.final_url, source=excluded.source,
                    status=excluded.status, content_type=excluded.content_type,
                    etag=excluded.etag, last_modified=excluded.last_modified,
                    sha256=excluded.sha256, bytes=excluded.bytes,
                    fetched_at=excluded.fetched_at, last_success_at=excluded.last_success_at,
                    changed_at=excluded.changed_at, redirects=excluded.redirects, error=NULL,
                    title=excluded.title, language=excluded.language,
                    doc_type=excluded.doc_type, document=excluded.document,
                    canonical_url=excluded.canonical_url, state='ok',
                    consecutive_failures=0, is_source=max(is_source, excluded.is_source),
                    last_run=excluded.last_run
                """,
                (
                    fetch.url, fetch.final_url, fetch.source, fetch.status, fetch.content_type,
                    fetch.etag, fetch.last_modified, fetch.sha256, fetch.bytes, now, now,
                    changed_at, json.dumps(fetch.redirects), doc.title, doc.language,
                    doc.doc_type, json.dumps(doc.to_dict(), ensure_ascii=False),
                    doc.canonical_url, int(fetch.is_source), run_id,
                ),
            )
            self._log(fetch.url, run_id, now, fetch.status, outcome, None, fetch.bytes)
        return outcome

    def _log(self, url: str, run_id: int | None, at: str, status: int | None, outcome: str,
             error: str | None, size: int = 0) -> None:
        self.db.execute(
            "INSERT INTO fetches (url, run_id, at, status, outcome, error, bytes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (url, run_id, at, status, outcome, error, size),
        )

    def record_not_modified(
        self,
        url: str,
        *,
        final_url: str | None = None,
        redirects: list[tuple[int, str]] | None = None,
        run_id: int | None = None,
    ) -> bool:
        """A 304: the stored copy is current. False if there is no stored copy to confirm.

        The 304 may have come at the end of a new redirect (a moved document with the same
        body), so the final URL and the redirect chain are updated all the same.
        """
        now = utc_now()
        with self.db:
            cur = self.db.execute(
                """
                UPDATE documents SET fetched_at = ?, last_success_at = ?, error = NULL,
                    state = 'ok', consecutive_failures = 0, last_run = ?,
                    final_url = ?, redirects = ?
                WHERE url = ? AND document IS NOT NULL
                """,
                (now, now, run_id, final_url or url, json.dumps(redirects or []), url),
            )
            if cur.rowcount == 1:
                self._log(url, run_id, now, 304, "not modified", None)
        return cur.rowcount == 1

    def record_failure(
        self,
        url: str,
        source: str,
        reason: str,
        *,
        status: int | None = None,
        final_url: str | None = None,
        redirects: list[tuple[int, str]] | None = None,
        run_id: int | None = None,
        gone_after: int = 2,
        is_source: bool = False,
    ) -> str:
        """Record a failed fetch and return its outcome: "stale", "gone" (newly), "failed", or
        "still gone" for a URL that was already gone.

        A 410 drops the document at once and a 404 after `gone_after` crawls in a row; any
        other failure (5xx, timeout, DNS, unreadable body) keeps the last good copy
        searchable and marks it stale, so one bad night never empties the index.
        """
        row = self.db.execute(
            "SELECT consecutive_failures, document, state, last_run FROM documents"
            " WHERE url = ?", (url,)
        ).fetchone()
        failures = (row["consecutive_failures"] if row else 0) + 1
        if row and row["last_run"] is not None and self._incomplete(row["last_run"]):
            # The last attempt was in a run that never finished (killed, interrupted): this
            # attempt replaces it rather than adding a night, so a crawl re-run after a kill
            # does not count one 404 twice towards gone_after.
            failures = max(row["consecutive_failures"], 1)
        has_copy = bool(row and row["document"])
        if status in GONE_AT_ONCE or (status in NOT_FOUND and failures >= gone_after):
            state = "gone"
        elif has_copy:
            state = "stale"
        else:
            state = "failed"
        with self.db:
            self.db.execute(
                """
                INSERT INTO documents (url, final_url, source, status, fetched_at, redirects,
                    error, state, consecutive_failures, is_source, last_run)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(url) DO UPDATE SET
                    final_url=excluded.final_url, status=excluded.status,
                    fetched_at=excluded.fetched_at, redirects=excluded.redirects,
                    error=excluded.error, state=excluded.state,
                    consecutive_failures=excluded.consecutive_failures,
                    is_source=max(is_source, excluded.is_source), last_run=excluded.last_run
                """,
                (
                    url, final_url or url, source, status, utc_now(), json.dumps(redirects or []),
                    reason, state, failures, int(is_source), run_id,
                ),
            )
            outcome = "still gone" if state == "gone" and row and row["state"] == "gone" else state
            self._log(url, run_id, utc_now(), status, outcome, reason)
            if outcome == "still gone":
                return outcome
            if state == "gone":
                self.db.execute(
                    "UPDATE documents SET document = NULL, canonical_url = NULL, sha256 = NULL,"
                    " changed_at = ? WHERE url = ?",
                    (utc_now(), url),
                )
        return state

    def drop_unlinked(self, run_id: int, sources: list[str]) -> int:
        """Documents no hub page links to any more are gone; return how many.

        Judged only for sources whose hub page was read in this run (if a hub page failed,
        we cannot tell what it links to), against the links of every hub page read, so a
        document that moved from one hub page to another is kept.
        """
        if not sources:
            return 0
        marks = ",".join("?" * len(sources))
        hubs = self.db.execute(
            f"SELECT source, document FROM documents WHERE is_source = 1 AND last_run = ?"
            f" AND state = 'ok' AND document IS NOT NULL AND source IN ({marks})",
            (run_id, *sources),
        ).fetchall()
        if not hubs:
            return 0
        linked: set[str] = set()
        for hub in hubs:
            linked.update(json.loads(hub["document"]).get("links", []))
        fresh = [hub["source"] for hub in hubs]
        marks = ",".join("?" * len(fresh))
        candidates = self.db.execute(
            f"SELECT url FROM documents WHERE is_source = 0 AND state != 'gone'"
            f" AND source IN ({marks})",
            fresh,
        ).fetchall()
        unlinked = [r["url"] for r in candidates if r["url"] not in linked]
        with self.db:
            self.db.executemany(
                """
                UPDATE documents SET state = 'gone', document = NULL, canonical_url = NULL,
                    sha256 = NULL, error = 'no longer linked from its source page',
                    changed_at = ?
                WHERE url = ?
                """,
                [(utc_now(), url) for url in unlinked],
            )
        return len(unlinked)

    def _incomplete(self, run_id: int) -> bool:
        row = self.db.execute("SELECT outcome FROM crawl_runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row["outcome"] in INCOMPLETE_RUNS)

    def start_run(self) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO crawl_runs (started_at) VALUES (?)", (utc_now(),))
        return int(cur.lastrowid)

    def finish_run(
        self,
        run_id: int,
        counts: dict[str, int],
        outcome: str = "finished",
        error: str | None = None,
    ) -> None:
        if outcome not in RUN_OUTCOMES:
            raise ValueError(f"unknown run outcome {outcome!r}")
        keys = ("fetched", "failed", "new", "changed", "unchanged", "gone", "bytes")
        with self.db:
            self.db.execute(
                f"UPDATE crawl_runs SET finished_at = ?, outcome = ?, error = ?, "
                f"{', '.join(f'{k} = ?' for k in keys)} WHERE id = ?",
                (utc_now(), outcome, error, *(int(counts.get(k, 0)) for k in keys), run_id),
            )

    def mark_killed_runs(self) -> int:
        """Mark runs that never finished as killed; return how many.

        Only call this while holding the crawl lock (hubsearch/locks.py): then no crawl is
        running, so an unfinished run is one whose process died.
        """
        with self.db:
            cur = self.db.execute(
                "UPDATE crawl_runs SET outcome = 'killed',"
                " error = 'never finished: its process was killed or could not record the end'"
                " WHERE finished_at IS NULL AND outcome IS NULL"
            )
        return cur.rowcount

    # -- read by the indexer and the report ---------------------------------------------

    def run(self, run_id: int) -> CrawlRun | None:
        row = self.db.execute("SELECT * FROM crawl_runs WHERE id = ?", (run_id,)).fetchone()
        return CrawlRun(**dict(row)) if row else None

    def last_run(self) -> CrawlRun | None:
        row = self.db.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        return CrawlRun(**dict(row)) if row else None

    def last_complete_run(self) -> CrawlRun | None:
        """The latest run that went through all its URLs: what the quality gate judges."""
        row = self.db.execute(
            "SELECT * FROM crawl_runs WHERE finished_at IS NOT NULL"
            " AND COALESCE(outcome, 'finished') NOT IN (?, ?) ORDER BY id DESC LIMIT 1",
            INCOMPLETE_RUNS,
        ).fetchone()
        return CrawlRun(**dict(row)) if row else None

    def runs(self, limit: int = 20) -> list[CrawlRun]:
        rows = self.db.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT ?", (limit,))
        return [CrawlRun(**dict(r)) for r in rows]

    def validators(self) -> dict[str, tuple[str | None, str | None]]:
        """url -> (ETag, Last-Modified) of every document with a good stored copy."""
        rows = self.db.execute(
            "SELECT url, etag, last_modified FROM documents WHERE document IS NOT NULL"
            " AND (etag IS NOT NULL OR last_modified IS NOT NULL)"
        )
        return {r["url"]: (r["etag"], r["last_modified"]) for r in rows}

    def history(self, url: str, limit: int = 10) -> list[dict]:
        """The latest fetch attempts of a URL, newest first."""
        rows = self.db.execute(
            "SELECT run_id, at, status, outcome, error, bytes FROM fetches WHERE url = ?"
            " ORDER BY at DESC, rowid DESC LIMIT ?",
            (url, limit),
        )
        return [dict(r) for r in rows]

    def _stored(self, row: sqlite3.Row) -> StoredDocument:
        doc = ExtractedDocument.from_dict(json.loads(row["document"])) if row["document"] else None
        try:
            title = row["stored_title"]
        except IndexError:  # a full row: the title is the decoded document's
            title = doc.title if doc else None
        return StoredDocument(
            url=row["url"],
            final_url=row["final_url"] or row["url"],
            source=row["source"],
            status=row["status"],
            content_type=row["content_type"],
            sha256=row["sha256"],
            fetched_at=row["fetched_at"],
            last_success_at=row["last_success_at"],
            changed_at=row["changed_at"],
            redirects=json.loads(row["redirects"] or "[]"),
            error=row["error"],
            state=row["state"],
            consecutive_failures=row["consecutive_failures"],
            is_source=bool(row["is_source"]),
            etag=row["etag"],
            last_modified=row["last_modified"],
            document=doc,
            title=title,
        )

    def get(self, url: str) -> StoredDocument | None:
        row = self.db.execute("SELECT * FROM documents WHERE url = ?", (url,)).fetchone()
        return self._stored(row) if row else None

    def all(self, *, bodies: bool = True) -> Iterator[StoredDocument]:
        """Every URL ever recorded, good, failed or gone, in URL order.

        `bodies=False` leaves `document` None (with `title` still set): the health report
        needs no body, and decoding every one cost more than the build it reports on.
        """
        query = "SELECT * FROM documents" if bodies else self._without_body()
        for row in self.db.execute(query + " ORDER BY url"):
            yield self._stored(row)

    def briefly(self, urls: list[str]) -> Iterator[StoredDocument]:
        """The documents recorded at `urls` (those that are), as `all(bodies=False)` gives
        them, in URL order."""
        query = self._without_body()
        for start in range(0, len(urls), 500):  # within SQLite's bound on parameters
            chunk = urls[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from map(self._stored,
                           self.db.execute(f"{query} WHERE url IN ({marks}) ORDER BY url", chunk))

    def _without_body(self) -> str:
        columns = [r[1] for r in self.db.execute("PRAGMA table_info(documents)")
                   if r[1] != "document"]
        return (f"SELECT {', '.join(columns)}, NULL AS document, CASE WHEN document IS"
                " NULL THEN NULL ELSE title END AS stored_title FROM documents")

    def searchable(self) -> Iterator[StoredDocument]:
        """Documents with a last good copy to index (ok or stale), in URL order."""
        for row in self.db.execute(
            "SELECT * FROM documents WHERE document IS NOT NULL ORDER BY url"
        ):
            yield self._stored(row)

    def searchable_refs(self) -> Iterator[DocumentRef]:
        """Every searchable document's identity, in URL order, without decoding its body.

        Only hub pages' stored JSON is read (for their links, which attribute documents to
        sources).
        """
        rows = self.db.cursor()
        rows.row_factory = None  # plain tuples: a row per stored document
        rows.execute(
            """
            SELECT url, final_url, source, is_source, sha256, last_success_at, fetched_at,
                canonical_url,
                CASE WHEN is_source = 1 THEN json_extract(document, '$.links') END AS links,
                last_modified
            FROM documents WHERE document IS NOT NULL ORDER BY url
            """
        )
        for (url, final_url, source, is_source, sha256, last_success_at, fetched_at,
             canonical_url, links, last_modified) in rows:
            yield DocumentRef(url, final_url or url, source, bool(is_source), sha256,
                              last_success_at, fetched_at, canonical_url,
                              tuple(json.loads(links)) if links else (), last_modified)

    def document(self, url: str) -> ExtractedDocument | None:
        """The stored body of one document, decoded."""
        row = self.db.execute("SELECT document FROM documents WHERE url = ?", (url,)).fetchone()
        return ExtractedDocument.from_dict(json.loads(row[0])) if row and row[0] else None

    def fingerprints(self) -> dict[str, str]:
        """url -> sha256 of every searchable document: what the indexer compares against."""
        rows = self.db.execute(
            "SELECT url, sha256 FROM documents WHERE document IS NOT NULL"
        )
        return {r["url"]: r["sha256"] for r in rows}
