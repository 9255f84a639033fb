"""The maintainers' pages under /admin: sign-in and sign-out, the start page, the audit log.

Every route but the sign-in form refuses a request without a valid session: a page request
is sent to the sign-in form (and back after it), anything else gets 403. Accounts are made
with `hubsearch users add NAME` on the server (hubsearch/accounts.py); what maintainers do
here is written to the audit log (hubsearch/audit.py) with their name and address.

Blocking work (the store, argon2) runs in the thread pool: endpoints that read a form are
async only to await the body.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubsearch import accounts, audit
from hubsearch.store import DocumentStore
from hubsearch_web import i18n
from hubsearch_web.admin_session import (
    Refused,
    SignedIn,
    check_login_token,
    check_origin,
    clear_session_cookie,
    client_address,
    maintainer_form,
    maintainers_only,
    new_login_token,
    open_store,
    read_form,
    safe_next,
    set_login_cookie,
    set_session_cookie,
    signed_in,
)
from hubsearch_web.page_context import page_links
from hubsearch_web.params import int_param

AUDIT_PAGE = 100
NO_ACCOUNTS = "no maintainer accounts yet: on the server, run `hubsearch users add NAME`"


def render(request: Request, template: str, context: dict[str, Any],
           status_code: int = 200) -> Response:
    # The maintainers' pages are in English: no language switch offered.
    t = i18n.translator(i18n.DEFAULT_UI)
    root = request.scope.get("root_path", "")
    return request.app.state.templates.TemplateResponse(
        request, template,
        {"t": t, **page_links(request, t), "switch_url": "", "root": root, **context},
        status_code=status_code)


def refused_page(request: Request, exc: Refused) -> Response:
    response = render(request, "admin_refused.html", {"reason": exc.reason},
                       status_code=exc.status)
    if exc.status in (400, 408):
        # The body was not read whole: this connection cannot carry another request.
        response.headers["connection"] = "close"
    return response


def login_form(request: Request) -> Response:
    with open_store(request) as store:
        if store is not None and signed_in(request, store) is not None:
            return RedirectResponse(safe_next(request, request.query_params.get("next")),
                                    status_code=303)
        return _login_page(request, store, None)


def _login_page(request: Request, store: DocumentStore | None, message: str | None,
                status_code: int = 200, name: str = "", next_target: Any = None) -> Response:
    token = new_login_token() if store is not None else ""
    response = render(request, "admin_login.html", {
        "message": message or ("" if store is not None else NO_ACCOUNTS),
        "next": safe_next(request, next_target or request.query_params.get("next")),
        "name": name, "csrf": token}, status_code=status_code)
    if store is not None:
        set_login_cookie(request, response, store, token)
    return response


async def login(request: Request) -> Response:
    check_origin(request)
    form = await read_form(request)
    return await anyio.to_thread.run_sync(_login, request, form)


def _login(request: Request, form: FormData) -> Response:
    with open_store(request) as store:
        if store is None:
            return _login_page(request, None, NO_ACCOUNTS, 403)
        check_login_token(request, store, form)
        name = form.get("name")
        password = form.get("password")
        name = name.strip().lower() if isinstance(name, str) else ""
        password = password if isinstance(password, str) else ""
        client = client_address(request)
        if accounts.throttled(store, name, client):
            with store.db:
                audit.record(store, name, "sign-in throttled", name, client=client)
            return _login_page(request, store, "Too many failed sign-ins: wait 15 minutes and "
                                               "try again.", 429, name=name,
                               next_target=form.get("next"))
        if not accounts.verify(store, name, password):
            with store.db:
                audit.record(store, name, "sign-in failed", name, client=client)
            return _login_page(request, store, "That name and password do not match an "
                                               "account.", 401, name=name,
                               next_target=form.get("next"))
        token = accounts.open_session(store, name)
        with store.db:
            audit.record(store, name, "signed in", name, client=client)
        response = RedirectResponse(safe_next(request, form.get("next")), status_code=303)
        set_session_cookie(request, response, store, token)
        return response


def _logout(request: Request, form: FormData, store: DocumentStore, who: SignedIn
            ) -> Response:
    accounts.close_session(store, who.token)
    with store.db:
        audit.record(store, who.name, "signed out", who.name, client=client_address(request))
    root = request.scope.get("root_path", "")
    response = RedirectResponse(f"{root}/admin/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@maintainers_only
def home(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    return render(request, "admin_home.html", {"who": who,
                                                "recent": audit.recent(store, limit=10)})


@maintainers_only
def audit_log(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    before = int_param(request, "before", 0, 0, 2**62) or None
    entries = audit.recent(store, limit=AUDIT_PAGE + 1, before=before)
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    return render(request, "admin_audit.html", {
        "who": who, "entries": entries,
        "older": entries[-1]["id"] if more and entries else None})


routes = [
    Route("/admin", home),
    Route("/admin/login", login_form, methods=["GET"]),
    Route("/admin/login", login, methods=["POST"]),
    Route("/admin/logout", maintainer_form(_logout), methods=["POST"]),
    Route("/admin/audit", audit_log),
]
