"""Maintainers sign in to /admin with accounts made by `hubsearch users`; every maintainers'
route refuses anyone else. Written as the attacks they have to withstand: no session, a
forged, replayed or expired cookie, a missing or wrong CSRF token, a form posted from
another site, password guessing, a redirect off the site, markup in a name."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import (
    MAINTAINER,
    add_maintainer,
    login_form_token,
    own_store,
    page_csrf,
    sign_in,
)
from itsdangerous import TimestampSigner
from starlette.testclient import TestClient

from hubsearch import accounts
from hubsearch.store import DocumentStore
from hubsearch_web.admin_session import COOKIE
from hubsearch_web.serving import MAX_FORM_BYTES
from search_server import create_app

PAGES = ["/admin", "/admin/audit", "/status", "/status?ui=cy"]


@pytest.fixture
def admin(demo_index, tmp_path):
    """(settings with a private store holding one maintainer, a client of the app)."""
    settings = own_store(demo_index[0], tmp_path)
    add_maintainer(settings)
    return settings, TestClient(create_app(settings))


def _audit(settings, action: str) -> list[dict]:
    with DocumentStore(settings.storage.store_path) as store:
        return [dict(r) for r in store.db.execute(
            "SELECT actor, action, target, detail, client FROM audit WHERE action = ?",
            (action,))]


def _signed_in(client: TestClient) -> bool:
    return client.get("/admin", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_every_maintainers_page_sends_a_visitor_without_a_session_to_sign_in(admin, path):
    _, client = admin
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")
    assert "link health" not in response.text.lower()


def test_no_maintainers_route_answers_a_request_without_a_session(admin):
    """Every route under /admin (and /status), whatever it is, as an anonymous visitor
    reaches it: pages send to the sign-in form, forms are refused, nothing is done."""
    settings, client = admin
    token = login_form_token(client)
    checked = 0
    for route in client.app.routes:
        path = getattr(route, "path", "")
        if not (path.startswith("/admin") or path == "/status") or path == "/admin/login":
            continue
        path = path.replace("{name}", "lff-en")
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            if method == "GET":
                response = client.get(path, follow_redirects=False)
                assert response.status_code == 303, path
                assert response.headers["location"].startswith("/admin/login?next="), path
            else:
                response = client.post(path, data={"csrf": token, "source": "",
                                                   "url": "https://hub.example/x",
                                                   "name": "x"}, follow_redirects=False)
                assert response.status_code == 403, (method, path)
            checked += 1
    assert checked >= 14
    with DocumentStore(settings.storage.store_path) as store:
        done = [r[0] for r in store.db.execute("SELECT action FROM audit")]
    assert done == ["user added"]


def test_signing_out_without_a_session_is_refused(admin):
    _, client = admin
    token = login_form_token(client)
    assert client.post("/admin/logout", data={"csrf": token}).status_code == 403


def test_a_maintainer_signs_in_and_the_cookie_is_httponly_strict_and_expires(admin):
    settings, client = admin
    response = sign_in(client, next="/status")

    assert response.status_code == 303 and response.headers["location"] == "/status"
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith(f"{COOKIE}="))
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "max-age", "path"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert f"max-age={accounts.SESSION_HOURS * 3600}" in cookie.lower()
    assert "secure" not in attributes  # plain HTTP here; over TLS it is set (next test)
    home = client.get("/admin")
    assert home.status_code == 200 and MAINTAINER[0] in home.text
    status = client.get("/status")
    assert status.status_code == 200 and "Sign out" in status.text
    assert _audit(settings, "signed in")[0]["actor"] == MAINTAINER[0]


def test_over_tls_the_session_cookie_is_secure(demo_index, tmp_path):
    settings = own_store(demo_index[0], tmp_path)
    add_maintainer(settings)
    client = TestClient(create_app(settings), base_url="https://testserver")
    cookie = next(c for c in sign_in(client).headers.get_list("set-cookie")
                  if c.startswith(f"{COOKIE}="))
    assert "secure" in cookie.lower()


def test_signing_out_ends_the_session_for_a_replayed_cookie_too(admin):
    settings, client = admin
    sign_in(client)
    stolen = client.cookies.get(COOKIE)
    csrf = page_csrf(client.get("/admin").text)

    assert client.post("/admin/logout", data={"csrf": csrf},
                       follow_redirects=False).status_code == 303
    assert not _signed_in(client)
    replay = TestClient(client.app)
    replay.cookies.set(COOKIE, stolen)
    assert not _signed_in(replay)
    assert _audit(settings, "signed out")


def test_a_forged_cookie_is_refused(admin):
    settings, client = admin
    sign_in(client)
    real = client.cookies.get(COOKIE)
    token, _, _ = real.rpartition(".")[0].rpartition(".")
    forgeries = [
        "x" * 40,
        real[:-2] + ("AA" if not real.endswith("AA") else "BB"),  # signature altered
        TimestampSigner("a key the attacker chose", salt=COOKIE).sign(token).decode(),
        "a" * 5000,
    ]
    for value in forgeries:
        other = TestClient(client.app)
        other.cookies.set(COOKIE, value)
        assert not _signed_in(other), value[:60]


def test_an_expired_session_is_refused(admin):
    settings, client = admin
    sign_in(client)
    assert _signed_in(client)
    with DocumentStore(settings.storage.store_path) as store, store.db:
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
        store.db.execute("UPDATE sessions SET expires_at = ?", (past,))
    assert not _signed_in(client)


def test_a_cookie_signed_longer_ago_than_a_session_lasts_is_refused(admin):
    settings, client = admin
    sign_in(client)
    token = client.cookies.get(COOKIE).rsplit(".", 2)[0]
    with DocumentStore(settings.storage.store_path) as store:
        key = accounts.cookie_key(store)

    class Yesterday(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - (accounts.SESSION_HOURS + 1) * 3600

    old = TestClient(client.app)
    old.cookies.set(COOKIE, Yesterday(key, salt=COOKIE).sign(token).decode())
    assert not _signed_in(old)


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(admin):
    settings, client = admin
    wrong = sign_in(client, password="not the password at all")
    unknown = sign_in(client, name="nobody", password=MAINTAINER[1])
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an account" in wrong.text and "do not match an account" in unknown.text
    assert not _signed_in(client)
    failed = _audit(settings, "sign-in failed")
    assert [f["target"] for f in failed] == [MAINTAINER[0], "nobody"]
    assert all(f["client"] for f in failed)


def test_password_guessing_is_throttled_even_for_the_right_password(admin):
    settings, client = admin
    for n in range(accounts.SIGN_IN_LIMIT):
        assert sign_in(client, password=f"guess number {n}").status_code == 401
    refused = sign_in(client)
    assert refused.status_code == 429 and "wait 15 minutes" in refused.text
    assert not _signed_in(client)
    assert _audit(settings, "sign-in throttled")


def test_sign_in_without_the_forms_token_or_from_another_site_is_refused(admin):
    settings, client = admin
    data = {"name": MAINTAINER[0], "password": MAINTAINER[1]}
    assert client.post("/admin/login", data=data).status_code == 403  # no token at all
    token = login_form_token(client)
    assert client.post("/admin/login", data={**data, "csrf": token + "x"}).status_code == 403
    elsewhere = client.post("/admin/login", data={**data, "csrf": token},
                            headers={"origin": "https://attacker.example"})
    assert elsewhere.status_code == 403 and "another site" in elsewhere.text
    cross = client.post("/admin/login", data={**data, "csrf": token},
                        headers={"sec-fetch-site": "cross-site", "origin": "null"})
    assert cross.status_code == 403 and "another site" in cross.text
    fresh = TestClient(client.app)  # the form's token without the cookie it pairs with
    assert fresh.post("/admin/login", data={**data, "csrf": token}).status_code == 403
    assert not _signed_in(client) and not _signed_in(fresh)


def test_signing_out_needs_the_sessions_csrf_token(admin):
    _, client = admin
    sign_in(client)
    for data in ({"name": "morgan"}, {"csrf": "guessed"}):
        assert client.post("/admin/logout", data=data).status_code == 403
    assert _signed_in(client)


@pytest.mark.parametrize("target", [
    "//attacker.example/", "https://attacker.example/admin", "/\\attacker.example",
    "/admin\r\nSet-Cookie: x=1", "javascript:alert(1)",
])
def test_after_sign_in_the_next_page_is_never_another_site(admin, target):
    _, client = admin
    response = sign_in(client, next=target)
    assert response.status_code == 303 and response.headers["location"] == "/admin"


def test_only_small_form_posts_to_the_admin_carry_a_body(admin):
    _, client = admin
    token = login_form_token(client)
    big = client.post("/admin/login", data={"csrf": token, "name": "x",
                                            "password": "p" * (MAX_FORM_BYTES + 1)})
    assert big.status_code == 413
    assert client.post("/api/search", content=b"q=x").status_code == 413
    typed = client.post("/admin/login", content=b'{"name": "x"}',
                        headers={"content-type": "application/json"})
    assert typed.status_code == 415


def test_removing_a_maintainer_or_resetting_the_password_ends_their_sessions(admin):
    settings, client = admin
    sign_in(client)
    with DocumentStore(settings.storage.store_path) as store:
        accounts.reset(store, MAINTAINER[0], "a brand new passphrase")
    assert not _signed_in(client)
    sign_in(client, password="a brand new passphrase")
    assert _signed_in(client)
    with DocumentStore(settings.storage.store_path) as store:
        accounts.remove(store, MAINTAINER[0])
    assert not _signed_in(client)


def test_the_audit_log_shows_who_did_what_and_never_a_password(admin):
    settings, client = admin
    sign_in(client, name="<script>alert(1)</script>", password="hunter2 hunter2")
    sign_in(client)
    page = client.get("/admin/audit").text
    assert "sign-in failed" in page and "signed in" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with DocumentStore(settings.storage.store_path) as store:
        dump = "\n".join(store.db.iterdump())
    assert "hunter2" not in dump and MAINTAINER[1] not in dump
    assert "$argon2id$" in dump


def test_anyone_sees_the_status_summary_only_a_maintainer_sees_each_url(admin):
    _, client = admin
    public = client.get("/api/status").json()
    assert public["documents"] == [] and all("error" not in s for s in public["sources"])
    assert public["documents_total"] > 0
    hit = client.get("/api/search", params={"q": "duty to notify"}).json()["results"][0]
    document = client.get(f"/api/documents/{hit['document_id']}").json()
    assert document["health"] is None and document["history"] == []

    sign_in(client)
    document = client.get(f"/api/documents/{hit['document_id']}").json()
    assert document["health"]["state"] == "ok" and document["history"]
