"""Attacks on the search server and its index, each tried as an attacker would.

The index is built for real (Whoosh) from a real store row that no crawl would write today:
a 1 MB title, a 1 MB heading over 40 sections and a section of 1 MB without a space, as an
older crawler stored them. The server is the real app, in-process for the API and under
uvicorn on a loopback port for connection-level attacks.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from crawler.bounds import MAX_HEADING_CHARS, MAX_HEADING_DEPTH, MAX_TITLE_CHARS
from crawler.document import ExtractedDocument, Section
from hubsearch.cli import main
from hubsearch.settings import StorageSettings, load_settings
from hubsearch.store import DocumentStore, Fetch
from hubsearch_web.serving import bind, uvicorn_config
from indexer.build import build_index
from indexer.passages import MAX_CHARS
from indexer.query import MAX_WORD_CHARS, MAX_WORDS, QueryRefused, parse_user_query
from indexer.search import (
    DOCUMENT_PASSAGES,
    MAX_CORRECTED,
    SNIPPET_HTML_CHARS,
    PassageSearcher,
    ResultPage,
)
from indexer.spelling import MAX_EDITS, MAX_LENGTH, Vocabulary
from search_server import create_app

REPO = Path(__file__).resolve().parent.parent
MB = 1_000_000
HUGE_URL = "http://hostile.test/huge"
PARAGRAPH = (
    "Workers held in debt bondage are a sign of labour exploitation. Professionals who see "
    "signs of trafficking should record what they saw, tell their safeguarding lead and make "
    "a referral through the national referral mechanism where the person consents. "
) * 3


def _store(store: DocumentStore, url: str, document: ExtractedDocument) -> None:
    body = url.encode()
    store.record_fetch(Fetch(
        url=url, final_url=url, source="test", status=200, content_type="text/html",
        sha256=hashlib.sha256(body).hexdigest(), bytes=len(body), document=document,
    ))


@pytest.fixture(scope="module")
def hostile_settings(tmp_path_factory: pytest.TempPathFactory):
    import dataclasses

    tmp = tmp_path_factory.mktemp("hostile")
    app_settings = dataclasses.replace(
        load_settings(REPO / "config.toml"),
        storage=StorageSettings(tmp / "hub.sqlite", tmp / "index"),
    )
    title = ("Modern slavery guidance " * (MB // 24 + 1))[:MB]
    heading = ("Exploitation " * (MB // 13 + 1))[:MB]
    one_word = "a" * MB
    sections = [
        Section([heading, one_word, *[f"Level {d}" for d in range(12)], f"Part {i}"],
                "\n\n".join([PARAGRAPH] * 3), anchor=f"part-{i}")
        for i in range(40)
    ]
    sections.append(Section([title, "No spaces"], "x" * MB, anchor="no-spaces"))
    huge = ExtractedDocument(title=title, doc_type="html", language="en", sections=sections)
    care = ExtractedDocument(title="Care leavers", doc_type="html", language="en", sections=[
        Section(["Care leavers", "Grooming risks"],
                "Young people leaving care are at higher risk of being groomed by people who "
                "offer accommodation, money or affection and then demand work in return.",
                anchor="grooming"),
    ])
    with DocumentStore(app_settings.storage.store_path) as store:
        _store(store, HUGE_URL, huge)
        _store(store, "http://guides.test/care-leavers", care)
    build_index(app_settings)
    return app_settings


@pytest.fixture(scope="module")
def searcher(hostile_settings) -> PassageSearcher:
    return PassageSearcher(hostile_settings.storage.index_dir)


@pytest.fixture(scope="module")
def client(hostile_settings, searcher) -> TestClient:
    return TestClient(create_app(hostile_settings, searcher=searcher))


# --- One long search word -----------------------------------------------------------------

def test_a_499_letter_word_never_reaches_the_spelling_corrector(client, searcher):
    vocabulary = searcher.vocabulary()
    before = vocabulary.lookups
    response = client.get("/api/search", params={"q": "trafficing" + "q" * 489})
    assert response.status_code == 200
    data = response.json()
    assert data["suggestion"] is None and data["words_ignored"] == 1
    assert vocabulary.lookups == before, "the corrector was asked about a 499-letter word"
    assert vocabulary.candidates("trafficing" + "q" * 489) == set()


def test_words_too_long_to_correct_are_searched_as_typed_at_no_cost(client, searcher):
    vocabulary = searcher.vocabulary()
    before = vocabulary.lookups
    # Eleven words of 31-40 letters: each is a word for the query, none is corrected.
    q = " ".join(chr(ord("b") + i) * (MAX_LENGTH + 1 + i) for i in range(10))
    data = client.get("/api/search", params={"q": q}).json()
    assert data["words_ignored"] == 0 and data["suggestion"] is None
    assert vocabulary.lookups == before


def test_a_query_of_many_misspelt_words_corrects_a_bounded_number(client, searcher):
    vocabulary = searcher.vocabulary()
    before = vocabulary.lookups
    words = [f"exploitaton{chr(ord('a') + i)}" for i in range(MAX_WORDS)]
    data = client.get("/api/search", params={"q": " ".join(words)}).json()
    assert data["words_ignored"] == 0
    assert vocabulary.lookups - before == MAX_CORRECTED


def test_an_ordinary_misspelling_is_still_corrected(client):
    assert client.get("/api/search", params={"q": "exploitaton"}).json()["suggestion"] == (
        "exploitation")


def test_a_lookup_examines_a_bounded_number_of_candidates(searcher):
    vocabulary = searcher.vocabulary()
    longest = "exploitation" * 3  # 36 letters: past MAX_LENGTH, not looked up at all
    assert not Vocabulary.correctable(longest) and vocabulary.candidates(longest) == set()
    word = ("exploitation" * 3)[:MAX_LENGTH]
    # A word of MAX_LENGTH letters probes ~n^2/2 deletes: a few hundred, not 124,000.
    assert len(vocabulary.candidates(word)) < 100


def test_a_1mb_word_in_a_stored_heading_never_enters_the_vocabulary(searcher):
    assert max(len(word) for word in searcher.vocabulary().counts) <= MAX_LENGTH + MAX_EDITS


# --- Query bounds ---------------------------------------------------------------------------

def test_words_past_the_limits_are_left_out_and_the_response_says_so(client):
    data = client.get("/api/search", params={"q": "care " * (MAX_WORDS + 8)}).json()
    assert data["words_ignored"] == 8 and data["results"]
    data = client.get("/api/search", params={"q": "care " + "z" * (MAX_WORD_CHARS + 1)}).json()
    assert data["words_ignored"] == 1 and data["results"]
    page = client.get("/", params={"q": "care " + "z" * (MAX_WORD_CHARS + 1)}).text
    assert "1 word was left out of your search" in page


def test_a_query_over_500_characters_is_a_400_naming_q(client, searcher):
    response = client.get("/api/search", params={"q": "care " * 101})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("q ")
    with pytest.raises(QueryRefused):
        searcher.search("care " * 101)


# --- Unbounded titles and headings -----------------------------------------------------------

def test_a_1mb_title_and_heading_make_a_small_search_response(client):
    response = client.get("/api/search", params={"q": "debt bondage exploitation",
                                                 "limit": 50, "document": HUGE_URL})
    data = response.json()
    assert data["total_passages"] >= 40 and len(data["results"]) == 50
    assert len(response.content) < 400_000, "50 results of the 1 MB document"
    for hit in data["results"]:
        assert len(hit["title"]) <= MAX_TITLE_CHARS
        assert len(hit["heading_path"]) <= MAX_HEADING_DEPTH
        assert all(len(h) <= MAX_HEADING_CHARS for h in hit["heading_path"])
        assert len(hit["snippet_html"]) <= SNIPPET_HTML_CHARS
        assert hit["heading_path"][-1].startswith("Part "), "the section's own heading is kept"


def test_a_passage_without_spaces_is_cut_and_its_snippet_bounded(client):
    data = client.get("/api/search", params={"q": "spaces", "document": HUGE_URL}).json()
    assert data["results"]
    for hit in data["results"]:
        assert len(hit["snippet_html"]) <= SNIPPET_HTML_CHARS


def test_a_documents_passages_are_paged_and_each_is_bounded(client):
    hit = client.get("/api/search", params={"q": "debt bondage"}).json()["results"][0]
    path = f"/api/documents/{hit['document_id']}"
    response = client.get(path)
    data = response.json()
    assert data["total_passages"] > DOCUMENT_PASSAGES
    assert len(data["passages"]) == DOCUMENT_PASSAGES and data["offset"] == 0
    assert len(response.content) < 1_000_000
    assert len(data["title"]) <= MAX_TITLE_CHARS
    for passage in data["passages"]:
        assert len(passage["text"]) <= MAX_CHARS
        assert len(passage["heading_path"]) <= MAX_HEADING_DEPTH
        assert all(len(h) <= MAX_HEADING_CHARS for h in passage["heading_path"])
    rest = client.get(path, params={"offset": DOCUMENT_PASSAGES}).json()
    assert len(rest["passages"]) == data["total_passages"] - DOCUMENT_PASSAGES
    assert rest["passages"][0]["position"] == DOCUMENT_PASSAGES
    assert client.get(path, params={"limit": DOCUMENT_PASSAGES + 1}).status_code == 400


def test_the_status_the_1mb_title_reaches_is_bounded_too(client):
    response = client.get("/api/status")
    assert response.status_code == 200 and len(response.content) < 50_000
    assert len(client.get("/status").content) < 100_000


# --- Caching and the Host header --------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/", "/?q=care+leavers", "/api/search?q=care+leavers", "/api/search?q=care&limit=x",
    "/?q=care&limit=x", "/api/documents/0000000000000000", "/status", "/api/status",
])
def test_no_response_that_may_echo_a_query_is_stored_by_a_cache(client, path):
    assert client.get(path).headers["cache-control"] == "no-store"


def test_static_files_may_still_be_cached(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200 and response.headers.get("cache-control") != "no-store"


@pytest.mark.parametrize("path", ["/", "/?q=care+leavers", "/?q=care&ui=cy", "/status",
                                  "/api/search?q=care+leavers"])
def test_a_forged_host_header_appears_nowhere_in_the_page(client, path):
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code in (200, 503)
    assert "evil.example" not in response.text


# --- Access log -------------------------------------------------------------------------------

def test_a_path_with_a_newline_cannot_forge_an_access_log_line(client, caplog):
    with caplog.at_level("INFO", logger="hubsearch.access"):
        client.get("/api/documents/x%0AGET%20/api/search%20200%201.0ms" + "y" * 500)
    lines = [r.getMessage() for r in caplog.records if r.name == "hubsearch.access"]
    assert lines and "\n" not in lines[-1] and len(lines[-1]) < 300


# --- Fuzz: no text is an exception or a server error -------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=600) | st.from_regex(
    r'[-" a-zA-Z0-9&\'.,:*^~()\[\]]{0,80}', fullmatch=True)


@settings(max_examples=300, deadline=None, database=None)
@given(text=TEXT)
def test_the_query_parser_reads_any_text_within_its_bounds(text):
    parsed = parse_user_query(text)
    words = parsed.words + [w for p in parsed.phrases for w in p]
    words += [w for e in parsed.excluded for w in e]
    assert len(words) <= MAX_WORDS
    assert all(0 < len(w) <= MAX_WORD_CHARS for w in words)


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_any_text_searches_or_is_refused_in_one_line(searcher, text):
    try:
        page = searcher.search(text)
    except QueryRefused as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(page, ResultPage)
    json.dumps(page.to_dict())


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_any_text_through_the_api_is_never_a_server_error(client, text):
    for path in ("/api/search", "/"):
        assert client.get(path, params={"q": text}).status_code < 500


# --- The server under uvicorn: connections, headers, bodies, the port -------------------------

@contextmanager
def served(app, **limits) -> Iterator[tuple[str, int]]:
    """The app under uvicorn with hubsearch_web/serving.py's limits, on a loopback port."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(app, log_level="warning", **limits))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield sock.getsockname()[:2]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _request(address, raw: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(address, timeout=timeout) as conn:
        conn.sendall(raw)
        return _read_all(conn)


def _read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after a refusal ends it too)."""
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _healthz(address) -> int:
    return _status(_request(address, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                     b"Connection: close\r\n\r\n"))


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    """True if the server closes `conn` (after whatever it sends) within `seconds`."""
    conn.settimeout(seconds)
    try:
        _read_all(conn)
    except TimeoutError:
        return False
    return True


@pytest.fixture(scope="module")
def app(hostile_settings, searcher):
    return create_app(hostile_settings, searcher=searcher)


def test_a_request_body_is_refused_without_being_read(app):
    with served(app) as address:
        with socket.create_connection(address, timeout=5) as conn:
            conn.sendall(b"GET /api/search?q=care HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 100000000\r\n\r\n" + b"x" * 65536)
            response = _read_all(conn)
        assert _status(response) == 413 and b"accepted only by the maintainers' forms" \
            in response
        chunked = _request(address, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        assert _status(chunked) == 413
        # The maintainers' forms take small bodies of a declared length only.
        for head in (b"Content-Length: 100000000", b"Transfer-Encoding: chunked"):
            form = _request(address, b"POST /admin/login HTTP/1.1\r\nHost: x\r\n" + head
                            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n")
            assert _status(form) == 413, head
        assert _healthz(address) == 200


def test_a_form_body_trickled_in_is_cut_off(app, monkeypatch):
    """Slowloris on a form: the declared body must arrive within FORM_SECONDS."""
    from hubsearch_web import admin_session

    monkeypatch.setattr(admin_session, "FORM_SECONDS", 1.0)
    with served(app) as address:
        started = time.monotonic()
        slow = _request(address, b"POST /admin/login HTTP/1.1\r\nHost: x\r\n"
                                 b"Content-Type: application/x-www-form-urlencoded\r\n"
                                 b"Content-Length: 100\r\n\r\nname=")
        assert _status(slow) == 408 and time.monotonic() - started < 4
        assert _healthz(address) == 200


def test_headers_past_16_kib_are_refused_in_one_piece_or_in_many(app):
    with served(app) as address:
        big = b"X-Padding: " + b"a" * 20_000 + b"\r\n"
        response = _request(address, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
        assert _status(response) == 431
        with socket.create_connection(address, timeout=5) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            try:
                for _ in range(40):  # 40 KiB of one header, 1 KiB at a time
                    conn.sendall(b"a" * 1024)
                    time.sleep(0.005)
            except OSError:
                pass  # refused before the end
            assert _status(_read_all(conn)) == 400
        assert _healthz(address) == 200


def test_a_connection_that_sends_nothing_or_trickles_headers_is_closed(app):
    with served(app, header_seconds=0.5) as address:
        with socket.create_connection(address, timeout=5) as silent:
            assert _closed_within(silent, 3), "a silent connection was held open"
        with socket.create_connection(address, timeout=5) as slow:
            started = time.monotonic()
            closed = False
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                try:
                    slow.sendall(bytes([byte]))
                except OSError:
                    closed = True
                    break
                slow.settimeout(0.05)
                try:
                    if slow.recv(1) == b"":
                        closed = True
                        break
                except TimeoutError:
                    pass
            assert closed and time.monotonic() - started < 4, "a trickling client held on"


def test_an_idle_keep_alive_connection_is_closed(app):
    with served(app, keep_alive_seconds=0.5) as address:
        with socket.create_connection(address, timeout=5) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            conn.settimeout(5)
            assert conn.recv(65536).startswith(b"HTTP/1.1 200")
            assert _closed_within(conn, 3), "an idle keep-alive connection was held open"


def test_connections_past_the_limit_get_503_at_once_and_the_server_recovers(app):
    with served(app, max_connections=4, header_seconds=1) as address:
        idle = [socket.create_connection(address, timeout=5) for _ in range(4)]
        try:
            time.sleep(0.1)
            assert _healthz(address) == 503
        finally:
            for conn in idle:
                conn.close()
        deadline = time.monotonic() + 5
        while _healthz(address) != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.05)


def test_serving_on_a_port_in_use_is_one_line(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[storage]\nstore_path = 'hub.sqlite'\nindex_dir = 'index'\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status = main(["serve", "--config", str(config), "--host", "127.0.0.1",
                       "--port", str(port)])
    err = capsys.readouterr().err
    assert status != 0
    assert err == f"error: port {port} is in use on 127.0.0.1\n"
