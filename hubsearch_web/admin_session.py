"""Who is signed in: the session cookie, the CSRF checks on every form, and the guard every
maintainers' route calls.

The cookie carries a session's random token signed with the store's key (itsdangerous, with
the time it was made), HttpOnly, SameSite=Strict, Path=/, Secure when the request came over
TLS (directly or from a trusted proxy), and a Max-Age of the session's length. A cookie is
accepted only if its signature holds, it is younger than the session length, and the store
still has its session (sign-out, a password reset and removing the user end it there).

Every state-changing request is a POST carrying the session's CSRF token in its form, and,
if the browser sent an Origin header, one naming this server. The sign-in form, which has no
session yet, pairs a signed random value in a cookie of its own with the same in the form.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import anyio
import anyio.to_thread
from itsdangerous import BadSignature, TimestampSigner
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response

from hubsearch import accounts
from hubsearch.accounts import Session
from hubsearch.store import DocumentStore

COOKIE = "hubsearch_session"
LOGIN_COOKIE = "hubsearch_signin"
LOGIN_SECONDS = 30 * 60  # to fill in the sign-in form
MAX_FORM_FIELDS = 20
# A form's body must arrive within this: one trickled in a byte at a time would otherwise
# hold one of the server's few connections for as long as the sender liked.
FORM_SECONDS = 10.0


class Refused(Exception):
    """A request the maintainers' routes refuse: its status and one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SignedIn:
    session: Session
    token: str

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def csrf(self) -> str:
        return self.session.csrf


def client_address(request: Request) -> str:
    """The client's address as uvicorn settled it (a trusted proxy's forwarded one)."""
    return request.client.host if request.client else ""


@contextmanager
def open_store(request: Request) -> Iterator[DocumentStore | None]:
    """The store maintainers' data is kept in, closed after, or None before there is one
    (no accounts: an admin request must not create an empty store where the crawler's
    should be)."""
    path = request.app.state.settings.storage.store_path
    if not path.exists():
        yield None
        return
    with DocumentStore(path) as store:
        yield store


def _signer(request: Request, store: DocumentStore, salt: str) -> TimestampSigner:
    state = request.app.state
    if getattr(state, "cookie_key", None) is None:
        state.cookie_key = accounts.cookie_key(store)
    return TimestampSigner(state.cookie_key, salt=salt)


def _secure(request: Request) -> bool:
    # uvicorn sets the scheme from X-Forwarded-Proto only for a trusted proxy.
    return request.url.scheme == "https"


def _root(request: Request) -> str:
    return request.scope.get("root_path", "") or "/"


def signed_in(request: Request, store: DocumentStore | None) -> SignedIn | None:
    """The maintainer whose valid session cookie came with `request`, if any."""
    raw = request.cookies.get(COOKIE)
    if store is None or not raw or len(raw) > 200:
        return None
    try:
        token = _signer(request, store, COOKIE).unsign(
            raw, max_age=accounts.SESSION_HOURS * 3600).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    found = accounts.session(store, token)
    return SignedIn(found, token) if found else None


def is_maintainer(request: Request) -> bool:
    """Whether a signed-in maintainer sent `request` (no store is opened without a cookie:
    staff searching never touch it)."""
    if COOKIE not in request.cookies:
        return False
    with open_store(request) as store:
        return signed_in(request, store) is not None


def set_session_cookie(request: Request, response: Response, store: DocumentStore,
                       token: str) -> None:
    value = _signer(request, store, COOKIE).sign(token).decode()
    response.set_cookie(COOKIE, value, max_age=accounts.SESSION_HOURS * 3600,
                        path=_root(request), httponly=True, samesite="strict",
                        secure=_secure(request))


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=_root(request), httponly=True, samesite="strict",
                           secure=_secure(request))


def new_login_token() -> str:
    """A fresh value for the sign-in form (`set_login_cookie` sets it in a cookie too)."""
    return secrets.token_urlsafe(32)


def set_login_cookie(request: Request, response: Response, store: DocumentStore,
                     value: str) -> None:
    response.set_cookie(LOGIN_COOKIE, _signer(request, store, LOGIN_COOKIE).sign(value).decode(),
                        max_age=LOGIN_SECONDS, path=_root(request), httponly=True,
                        samesite="strict", secure=_secure(request))


def check_login_token(request: Request, store: DocumentStore, form: FormData) -> None:
    raw = request.cookies.get(LOGIN_COOKIE) or ""
    sent = form.get("csrf")
    try:
        expected = _signer(request, store, LOGIN_COOKIE).unsign(
            raw, max_age=LOGIN_SECONDS).decode() if 0 < len(raw) <= 200 else None
    except (BadSignature, UnicodeDecodeError):
        expected = None
    if expected is None or not isinstance(sent, str) \
            or not secrets.compare_digest(expected.encode(), sent.encode()):
        raise Refused(403, "the sign-in form has expired or did not come from this site; "
                           "load it again")


def check_origin(request: Request) -> None:
    """Refuse a POST a browser says came from another site (Sec-Fetch-Site, or an Origin
    naming another host). Neither is always sent, and under the pages' no-referrer policy
    a browser sends `Origin: null` even from this site: the CSRF token and the SameSite
    cookie are what hold; this refuses early what a browser has already named."""
    fetched_from = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    if fetched_from in ("cross-site", "same-site") or (
            origin not in (None, "null")
            and urlsplit(origin).netloc.lower() != request.url.netloc.lower()):
        raise Refused(403, "this request came from another site")


def check_csrf(request: Request, who: SignedIn, form: FormData) -> None:
    sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(who.csrf.encode(),
                                                               sent.encode()):
        raise Refused(403, "the form did not carry this session's token; load the page "
                           "again")


async def read_form(request: Request) -> FormData:
    """The POSTed form: url-encoded fields only (no files), a bounded number of them."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise Refused(415, "send the form as application/x-www-form-urlencoded")
    try:
        with anyio.fail_after(FORM_SECONDS):
            return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except TimeoutError:
        raise Refused(408, "the form took too long to arrive") from None
    except ClientDisconnect:
        raise Refused(400, "the form did not arrive whole") from None


def safe_next(request: Request, target: Any) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    root = request.scope.get("root_path", "")
    default = f"{root}/admin"
    if not isinstance(target, str) or not target.startswith(f"{root}/") \
            or target.startswith("//") or "\\" in target or len(target) > 500 \
            or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def to_sign_in(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = safe_next(request, here)
    query = urlencode({"next": target})
    return RedirectResponse(f"{root}/admin/login?{query}", status_code=303)


def maintainers_only(page: Callable[[Request, DocumentStore, SignedIn], Response]
                     ) -> Callable[[Request], Response]:
    """A page for signed-in maintainers; anyone else is sent to the sign-in form."""

    @functools.wraps(page)
    def guarded(request: Request) -> Response:
        with open_store(request) as store:
            who = signed_in(request, store)
            if who is None or store is None:
                return to_sign_in(request)
            return page(request, store, who)

    return guarded


def maintainer_form(handler: Callable[..., Response]) -> Callable[[Request], Any]:
    """A form POST for signed-in maintainers: origin, session and CSRF token checked,
    then `handler(request, form, store, who)` in the thread pool (the store, argon2 and
    config edits block)."""

    async def endpoint(request: Request) -> Response:
        check_origin(request)
        form = await read_form(request)

        def run() -> Response:
            with open_store(request) as store:
                who = signed_in(request, store)
                if who is None or store is None:
                    raise Refused(403, "sign in first")
                check_csrf(request, who, form)
                return handler(request, form, store, who)

        return await anyio.to_thread.run_sync(run)

    return endpoint
