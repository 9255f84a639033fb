"""The audit log: who did what to the service and when, kept in the document store.

Each entry is an actor (a maintainer's name, "cli" for a command run on the server, or the
name someone tried to sign in with), an action from ACTIONS, its target (a user or source
name) and a short detail. Nothing secret is ever written: passwords, tokens and cookies
never reach this module, and every field is cut to MAX_FIELD characters with control
characters replaced, so a hostile name cannot forge a line of the log or bloat it.
"""

from __future__ import annotations

import re
from typing import Any

from hubsearch.store import DocumentStore, utc_now

ACTIONS = (
    "signed in", "sign-in failed", "sign-in throttled", "signed out",
    "user added", "user removed", "password reset",
    "source added", "source changed", "source removed",
    "crawl started", "crawl cancelled",
)
MAX_FIELD = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _clean(text: str) -> str:
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(text))
    return text if len(text) <= MAX_FIELD else text[:MAX_FIELD - 1] + "…"


def record(store: DocumentStore, actor: str, action: str, target: str = "",
           detail: str = "", client: str = "") -> None:
    """Add an entry (inside the caller's transaction, if it has one)."""
    if action not in ACTIONS:
        raise ValueError(f"not an audit action: {action!r}")
    store.db.execute(
        "INSERT INTO audit (at, actor, action, target, detail, client) VALUES (?, ?, ?, ?, ?, ?)",
        (utc_now(), _clean(actor), action, _clean(target), _clean(detail), _clean(client)))


def count(store: DocumentStore, action: str, since: str, *, target: str | None = None,
          client: str | None = None) -> int:
    """Entries of `action` since `since` (ISO time), for one target or one client."""
    sql = "SELECT count(*) FROM audit WHERE action = ? AND at >= ?"
    args: list[Any] = [action, since]
    if target is not None:
        sql += " AND target = ?"
        args.append(_clean(target))
    if client is not None:
        sql += " AND client = ?"
        args.append(_clean(client))
    return store.db.execute(sql, args).fetchone()[0]


def recent(store: DocumentStore, limit: int = 100, before: int | None = None
           ) -> list[dict[str, Any]]:
    """The newest entries first, `limit` of them (older than entry `before`, to page on)."""
    rows = store.db.execute(
        "SELECT id, at, actor, action, target, detail, client FROM audit "
        "WHERE id < ? ORDER BY id DESC LIMIT ?",
        (before if before is not None else 2**62, limit)).fetchall()
    return [dict(row) for row in rows]
