"""Maintainer accounts and their signed-in sessions, kept in the document store.

Accounts are made from the command line (`hubsearch users`), never from the web: whoever
can run commands on the server already holds the store. Passwords are kept only as argon2id
hashes (argon2-cffi's defaults: memory-hard, salted); a hash made under older parameters is
replaced at the next sign-in. A session is a random 256-bit token: the cookie carries it,
signed (hubsearch_web/admin_session.py), and the store keeps only its SHA-256, its CSRF
token and its expiry, so a copy of the store signs nobody in.

Sign-in is throttled from the audit log (hubsearch/audit.py), which every server process
shares: a name with SIGN_IN_LIMIT failures, or a client address with CLIENT_LIMIT, in the
last THROTTLE_SECONDS is refused before its password is even checked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubsearch import audit
from hubsearch.errors import HubsearchError
from hubsearch.store import DocumentStore, utc_now

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing is deliberately slow: no megabyte passwords
SESSION_HOURS = 8  # a working day; then sign in again
SIGN_IN_LIMIT = 5
CLIENT_LIMIT = 20
THROTTLE_SECONDS = 15 * 60

_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs what a wrong password does.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(HubsearchError):
    """A refused account change, with its one-line reason."""


@dataclass(frozen=True)
class Session:
    name: str
    csrf: str
    expires_at: str


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise AccountError(
            f"not a maintainer name: {str(name)[:80]!r} (1-64 of a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit)")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must be at most {MAX_PASSWORD} characters")
    return password


def add(store: DocumentStore, name: str, password: str) -> None:
    check_name(name)
    digest = _hasher.hash(check_password(password))
    now = utc_now()
    with store.db:
        if store.db.execute("SELECT 1 FROM maintainers WHERE name = ?", (name,)).fetchone():
            raise AccountError(f"a maintainer named {name!r} already exists")
        store.db.execute("INSERT INTO maintainers VALUES (?, ?, ?, ?)", (name, digest, now, now))
        audit.record(store, "cli", "user added", name)


def reset(store: DocumentStore, name: str, password: str) -> None:
    """A new password for `name`; every session of theirs ends."""
    digest = _hasher.hash(check_password(password))
    with store.db:
        changed = store.db.execute(
            "UPDATE maintainers SET password_hash = ?, changed_at = ? WHERE name = ?",
            (digest, utc_now(), name)).rowcount
        if not changed:
            raise AccountError(f"no maintainer named {name!r}")
        store.db.execute("DELETE FROM sessions WHERE name = ?", (name,))
        audit.record(store, "cli", "password reset", name)


def remove(store: DocumentStore, name: str) -> None:
    """Remove `name` and end every session of theirs."""
    with store.db:
        if not store.db.execute("DELETE FROM maintainers WHERE name = ?", (name,)).rowcount:
            raise AccountError(f"no maintainer named {name!r}")
        store.db.execute("DELETE FROM sessions WHERE name = ?", (name,))
        audit.record(store, "cli", "user removed", name)


def names(store: DocumentStore) -> list[dict[str, str]]:
    rows = store.db.execute(
        "SELECT name, created_at, changed_at FROM maintainers ORDER BY name").fetchall()
    return [dict(row) for row in rows]


def throttled(store: DocumentStore, name: str, client: str) -> bool:
    """Whether sign-in for `name` from `client` is refused for now (too many failures)."""
    since = _ago(THROTTLE_SECONDS)
    by_name = audit.count(store, "sign-in failed", since, target=name)
    by_client = audit.count(store, "sign-in failed", since, client=client) if client else 0
    return by_name >= SIGN_IN_LIMIT or by_client >= CLIENT_LIMIT


def verify(store: DocumentStore, name: str, password: str) -> bool:
    """Whether `password` is `name`'s; the same work whether or not `name` exists."""
    row = store.db.execute("SELECT password_hash FROM maintainers WHERE name = ?",
                           (name,)).fetchone() if NAME.fullmatch(name or "") else None
    digest = row["password_hash"] if row else _DUMMY_HASH
    try:
        ok = _hasher.verify(digest, password[:MAX_PASSWORD]) and row is not None
    except (VerificationError, InvalidHashError):
        return False
    if ok and _hasher.check_needs_rehash(digest):
        with store.db:
            store.db.execute("UPDATE maintainers SET password_hash = ? WHERE name = ?",
                             (_hasher.hash(password), name))
    return ok


def open_session(store: DocumentStore, name: str, hours: float = SESSION_HOURS) -> str:
    """A new session for `name`: its token (for the cookie; the store keeps its hash)."""
    token = secrets.token_urlsafe(32)
    expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")
    with store.db:
        # Expired sessions are dropped here, so the table holds only live ones.
        store.db.execute("DELETE FROM sessions WHERE expires_at <= ?", (utc_now(),))
        store.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                         (_hash(token), name, secrets.token_urlsafe(32), utc_now(), expires))
    return token


def session(store: DocumentStore, token: str) -> Session | None:
    """The live session `token` opens, if any (an expired or ended one opens none)."""
    row = store.db.execute(
        "SELECT s.name, s.csrf, s.expires_at FROM sessions s "
        "JOIN maintainers m ON m.name = s.name WHERE s.token_hash = ? AND s.expires_at > ?",
        (_hash(token), utc_now())).fetchone()
    return Session(row["name"], row["csrf"], row["expires_at"]) if row else None


def close_session(store: DocumentStore, token: str) -> None:
    with store.db:
        store.db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))


def cookie_key(store: DocumentStore) -> str:
    """The key session cookies are signed with: made once, kept in the store."""
    with store.db:
        store.db.execute("INSERT OR IGNORE INTO secrets VALUES ('session_cookie', ?)",
                         (secrets.token_urlsafe(48),))
        (key,) = store.db.execute(
            "SELECT value FROM secrets WHERE name = 'session_cookie'").fetchone()
    return key


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")
