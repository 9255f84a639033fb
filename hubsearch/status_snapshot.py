"""The link-health snapshot the indexer saves beside the index, for the search server.

The server never reads the document store, so after every build the indexer copies the
maintainers' report (hubsearch/report.py) into `status.sqlite` in the index directory.
One JSON file of the whole report cost seconds per build at 50k documents and was parsed
again on every /status request; here each document's line is a row, rewritten only when the
store changed it: the store numbers every change to a document's row or fetches (SQLite
triggers, hubsearch/store.py), so a build reads the rows changed since the revision it last
saw, not every row (comparing every row's stamp took 0.65 s of a 200k-passage build). A
first snapshot, another store put in its place, or one restored from before what was seen
compares every row's stamp (its store row and its latest fetch) instead. A reader takes
the build outcome, the sources and the documents needing attention (bounded), or one
document's line by URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hubsearch import ownership
from hubsearch.report import (
    bounded,
    document_row,
    needs_attention,
    reap_killed_runs,
    source_row,
)
from hubsearch.settings import Settings
from hubsearch.store import DocumentStore, utc_now

logger = logging.getLogger(__name__)

SNAPSHOT = "status.sqlite"
# Rows of documents needing attention a reader is given; the count of all is given too.
ATTENTION_LIMIT = 1_000
# Rows written before a change to the report's line are rewritten once, all of them.
VERSION = 3
BUSY_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    url       TEXT NOT NULL UNIQUE,
    source    TEXT NOT NULL,
    state     TEXT NOT NULL,
    is_source INTEGER NOT NULL,
    attention INTEGER NOT NULL,
    stamp     TEXT NOT NULL,   -- digest of what the row was made from; see _STAMP
    row       TEXT NOT NULL    -- JSON of the report's line
);
CREATE INDEX IF NOT EXISTS documents_by_attention ON documents (attention, url);
CREATE INDEX IF NOT EXISTS documents_by_state ON documents (state, url);
-- Which hub page links to which URL ("linked from"), rewritten whole at every snapshot:
-- hub pages are few, and a document's row does not change when a hub page's links do.
CREATE TABLE IF NOT EXISTS links (hub TEXT NOT NULL, source TEXT NOT NULL, url TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS links_by_url ON links (url);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
# Every store column a report line is made from, and the latest fetch (its history).
_STAMP = """digest(json_array(d.final_url, d.source, d.status, d.fetched_at, d.last_success_at,
    d.changed_at, d.redirects, d.error, d.state, d.consecutive_failures, d.is_source,
    CASE WHEN d.document IS NULL THEN NULL ELSE d.title END,
    (SELECT f.rowid FROM store.fetches f WHERE f.url = d.url
     ORDER BY f.at DESC, f.rowid DESC LIMIT 1)))"""


def save_status(settings: Settings, store: DocumentStore, **outcome: Any) -> dict[str, int]:
    """Bring the snapshot up to date with the store and record this build's `outcome`.

    Returns how many document lines were rewritten and removed. A damaged snapshot is
    written again from the store."""
    reap_killed_runs(store)
    index_dir = settings.storage.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / SNAPSHOT
    try:
        return _save(path, settings, store, outcome)
    except sqlite3.DatabaseError as exc:
        if not _damaged(path):
            raise
        logger.warning("status snapshot %s was unreadable (%s); writing it again", path, exc)
        for damaged in (path, path.with_name(path.name + "-journal")):
            damaged.unlink(missing_ok=True)
        return _save(path, settings, store, outcome)


def _damaged(path: Path) -> bool:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{quote(str(path))}?mode=ro",
                                                uri=True)) as db:
            return db.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError:
        return True


def _save(path: Path, settings: Settings, store: DocumentStore,
          outcome: dict[str, Any]) -> dict[str, int]:
    db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    try:
        db.executescript(_SCHEMA)
        db.create_function("digest", 1, _digest, deterministic=True)
        db.execute("ATTACH DATABASE ? AS store",
                   (f"file:{quote(str(store.path.resolve()))}?mode=ro",))
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        rewrite = version is None or json.loads(version[0]) != VERSION
        if rewrite:
            db.execute("DELETE FROM documents")
        seen = db.execute("SELECT value FROM meta WHERE key = 'store_revision'").fetchone()
        seen = json.loads(seen[0]) if seen else None
        revision = list(db.execute("SELECT store, n FROM store.revision").fetchone())
        if rewrite or not seen or seen[0] != revision[0] or seen[1] > revision[1]:
            # First run, a new layout, another store, or this one restored from before what
            # was seen: every row is compared with what it was made from.
            stale = dict(db.execute(
                f"SELECT url, made FROM (SELECT d.url, {_STAMP} AS made, s.stamp AS was "
                "FROM store.documents d LEFT JOIN main.documents s ON s.url = d.url) "
                "WHERE was IS NOT made"))
        else:
            # The rows the store changed since (its triggers number every change).
            stale = dict(db.execute(f"SELECT d.url, {_STAMP} FROM store.documents d "
                                    "WHERE d.rev > ?", (seen[1],)))
        rows = []
        for doc in store.briefly(sorted(stale)):
            row = bounded(document_row(store, doc))
            rows.append((doc.url, doc.source, doc.state, int(doc.is_source),
                         int(needs_attention(row)), stale[doc.url],
                         json.dumps(row, ensure_ascii=False, separators=(",", ":"))))
        db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        removed = db.execute("DELETE FROM documents WHERE url NOT IN "
                             "(SELECT url FROM store.documents)").rowcount
        db.execute("DELETE FROM links")
        db.execute("INSERT INTO links SELECT DISTINCT d.url, d.source, j.value "
                   "FROM store.documents d, json_each(d.document, '$.links') j "
                   "WHERE d.is_source = 1 AND d.document IS NOT NULL "
                   "AND json_valid(d.document) AND j.type = 'text'")
        last = store.last_run()
        meta = {"version": VERSION, "store_revision": revision, "generated_at": utc_now(),
                "index": {"checked_at": utc_now(), **outcome},
                "last_run": asdict(last) if last else None,
                "sources": _sources(db, settings)}
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                       [(k, json.dumps(bounded(v), ensure_ascii=False))
                        for k, v in meta.items()])
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    return {"rows_written": len(rows), "rows_removed": removed}


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _sources(db: sqlite3.Connection, settings: Settings) -> list[dict[str, Any]]:
    """Each configured source's line, counting the documents it owns (hubsearch/ownership.py)
    from the links just saved."""
    db.create_function("owner_of", 2,
                       ownership.owner_of_packed(ownership.source_order(settings.sources)),
                       deterministic=True)
    counts: dict[str, Counter[str]] = {}
    for source, state, n in db.execute(
            "SELECT owner_of(d.source, (SELECT group_concat(l.source, char(31)) "
            "FROM links l WHERE l.url = d.url)) AS owner, d.state, count(*) "
            "FROM documents d WHERE d.is_source = 0 GROUP BY owner, d.state"):
        counts.setdefault(source, Counter())[state] = n
    out = []
    for source in settings.sources:
        page = db.execute("SELECT row FROM documents WHERE url = ?", (source.url,)).fetchone()
        out.append(source_row(source, json.loads(page[0]) if page else None,
                              counts.get(source.name, Counter())))
    return out


def _connect(index_dir: Path) -> sqlite3.Connection | None:
    path = index_dir / SNAPSHOT
    if not path.is_file():
        return None
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                           timeout=BUSY_SECONDS)


def read_status(index_dir: Path, limit: int = ATTENTION_LIMIT) -> dict[str, Any] | None:
    """The last build's outcome, the last crawl run, every source's health and up to `limit`
    documents needing attention (with the count of all); None before the first build."""
    db = _connect(index_dir)
    if db is None:
        return None
    try:
        meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
        if "index" not in meta:
            return None
        attention = [json.loads(r) for (r,) in db.execute(
            "SELECT row FROM documents WHERE attention = 1 ORDER BY url LIMIT ?", (limit,))]
        (total,) = db.execute("SELECT count(*) FROM documents").fetchone()
        (needing,) = db.execute(
            "SELECT count(*) FROM documents WHERE attention = 1").fetchone()
    except sqlite3.DatabaseError:
        return None  # not yet written whole, or damaged: as before the first build
    finally:
        db.close()
    return {"index": meta["index"], "generated_at": meta.get("generated_at"),
            "last_run": meta.get("last_run"), "sources": meta.get("sources", []),
            "documents": attention, "documents_total": total,
            "documents_needing_attention": needing}


def document_status(index_dir: Path, url: str) -> dict[str, Any] | None:
    """One document's line of the report (health and latest fetches), if it has one."""
    db = _connect(index_dir)
    if db is None:
        return None
    try:
        found = db.execute("SELECT row FROM documents WHERE url = ?", (url,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()
    return json.loads(found[0]) if found else None


def link_rows(index_dir: Path, *, state: str | None = None, source: str | None = None,
              limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int] | None:
    """Every crawled document's line (hub pages aside), in URL order, optionally of one
    state and one recorded source, `limit` from `offset`, each with `linked_from` (the hub
    pages linking to it: [hub URL, source]); and how many match. None before the first
    build."""
    db = _connect(index_dir)
    if db is None:
        return None
    where, args = "is_source = 0", []
    if state:
        where += " AND state = ?"
        args.append(state)
    if source:
        where += " AND source = ?"
        args.append(source)
    try:
        (total,) = db.execute(f"SELECT count(*) FROM documents WHERE {where}", args).fetchone()
        rows = [json.loads(r) for (r,) in db.execute(
            f"SELECT row FROM documents WHERE {where} ORDER BY url LIMIT ? OFFSET ?",
            [*args, limit, offset])]
        for row in rows:
            row["linked_from"] = [list(pair) for pair in db.execute(
                "SELECT hub, source FROM links WHERE url = ? ORDER BY hub", (row["url"],))]
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()
    return rows, total
