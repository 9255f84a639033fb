"""Shared fixtures: the demo hub on a loopback port, a real crawl of it, a built index,
the search server running under uvicorn on loopback, and a real 2-node OpenSearch cluster."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from crawler.document import ExtractedDocument, Section
from hubsearch.demo_site import DEMO_ROOT, DemoSite, settings_for_site
from hubsearch.settings import Settings, StorageSettings, load_settings
from hubsearch.store import Fetch

DEMO_CONFIG = DEMO_ROOT / "config.toml"


def settings_in(tmp: Path, base_url: str) -> Settings:
    """The demo config, pointed at a served demo site and storing under tmp."""
    settings = settings_for_site(load_settings(DEMO_CONFIG), base_url)
    return dataclasses.replace(
        settings,
        storage=StorageSettings(store_path=tmp / "hub.sqlite", index_dir=tmp / "index"),
    )


@pytest.fixture(scope="session")
def demo_site() -> Iterator[DemoSite]:
    with DemoSite() as site:
        yield site


@pytest.fixture(scope="session")
def demo_crawl(demo_site: DemoSite, tmp_path_factory: pytest.TempPathFactory):
    """A real Scrapy crawl of the demo hub into a fresh store: (settings, summary)."""
    from crawler.run import run_crawl

    settings = settings_in(tmp_path_factory.mktemp("demo"), demo_site.base_url)
    return settings, run_crawl(settings)


@pytest.fixture(scope="session")
def demo_index(demo_crawl):
    """The demo crawl indexed into a real Whoosh generation: (settings, build result)."""
    from indexer.build import build_index

    settings, _ = demo_crawl
    return settings, build_index(settings)


# `make test` runs the suite on two workers (pytest-xdist, `--dist loadgroup`). Each worker
# builds its own session fixtures, so the tests of the one OpenSearch test cluster all go to
# one worker (a second cluster would double the JVMs on a 2-core machine), and every other
# module goes whole to a worker, so its module-scoped fixtures are built once.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("opensearch") or "opensearch_cluster" in getattr(
                item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("opensearch"))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadGroupScheduling

    class ModulesAndGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.rfind("@") > nodeid.rfind("]"):  # in an xdist_group: the group
                return nodeid.rsplit("@", 1)[-1]
            return nodeid.split("::", 1)[0]

    return ModulesAndGroups(config, log)


# The backends every test of search behaviour runs against (issue 14): the embedded Whoosh
# index, and a real 2-node OpenSearch cluster (skipped with its reason where it cannot run).
BACKENDS = ("whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch))


@pytest.fixture(scope="session", params=BACKENDS)
def demo_backend(request, demo_index) -> Settings:
    """The demo crawl indexed by each backend in turn: the settings that serve it. Tests of
    what staff see take this rather than `demo_index`, and so run against both."""
    settings, _ = demo_index
    if request.param == "whoosh":
        return settings
    from opensearchkit import new_prefix, on_opensearch

    from hubsearch.backends import open_backend

    cluster = request.getfixturevalue("opensearch_cluster")
    settings = on_opensearch(settings, cluster.urls, new_prefix())
    open_backend(settings).build()
    return settings


class LiveServer:
    """uvicorn serving an app on a loopback port chosen by the OS, in a thread."""

    def __init__(self, app) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="session")
def live_server(demo_index) -> Iterator[LiveServer]:
    from search_server import create_app

    settings, _ = demo_index
    with LiveServer(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="session")
def opensearch_cluster(tmp_path_factory: pytest.TempPathFactory):
    """One real 2-node OpenSearch cluster on loopback (tools/opensearch_cluster) for the whole
    session, started by the first test that asks for it (~10 s, in that test's timeout) and
    stopped at the end. Tests share it through `opensearch_prefix`; none may stop its nodes
    (a node-failure test starts a cluster of its own)."""
    from opensearch_cluster import OpenSearchCluster, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with OpenSearchCluster(nodes=2, workdir=tmp_path_factory.mktemp("opensearch")) as cluster:
        yield cluster


@pytest.fixture
def opensearch_prefix(opensearch_cluster) -> Iterator[str]:
    """An index prefix of this test's own on the session cluster; its `<prefix>-*` indices
    and aliases are deleted afterwards, so tests never see each other's."""
    from opensearchkit import delete_prefix, new_prefix

    prefix = new_prefix()
    yield prefix
    delete_prefix(opensearch_cluster.live_urls[0], prefix)


@pytest.fixture
def opensearch_settings(opensearch_cluster,
                        opensearch_prefix: str) -> Callable[[Settings], Settings]:
    """A function turning a Settings into one whose backend is the session cluster, under
    this test's prefix, with 2 shards and 1 replica."""
    from opensearchkit import on_opensearch

    return lambda settings: on_opensearch(settings, opensearch_cluster.urls, opensearch_prefix)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (tests/browserkit.py)."""
    from browserkit import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium: `make test` installs it")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser):
    """A function opening a fresh page at a viewport, with or without scripts."""
    contexts = []

    def open_at(viewport: dict[str, int], javascript: bool = True):
        # bypass_csp lets the test inject axe-core; the served page keeps its strict CSP.
        context = browser.new_context(bypass_csp=True, viewport=viewport,
                                      java_script_enabled=javascript)
        contexts.append(context)
        return context.new_page()

    yield open_at
    for context in contexts:
        context.close()


def settings_for(tmp: Path, hub_url: str, **crawl: object) -> Settings:
    """Settings crawling one hub page into tmp, fast and without retries (tests only)."""
    from hubsearch.settings import Source

    base = load_settings(DEMO_CONFIG)
    return dataclasses.replace(
        base,
        crawl=dataclasses.replace(base.crawl, retry_times=0, **crawl),
        storage=StorageSettings(store_path=tmp / "hub.sqlite", index_dir=tmp / "index"),
        sources=(Source(name="hub", url=hub_url, follow_links=True, language="en"),),
    )


@pytest.fixture
def scripted_site():
    from sitekit import ScriptedSite

    with ScriptedSite() as site:
        yield site


def serve_config(tmp: Path, settings: Settings, server: str = "") -> Path:
    """A config file naming a test's store and index, for a `hubsearch serve` subprocess
    (its worker processes read the file again); `server` is the [server] table's body."""
    root = Path(__file__).resolve().parent.parent
    path = tmp / "serve.toml"
    path.write_text(
        "[storage]\n"
        f"store_path = {json.dumps(str(settings.storage.store_path))}\n"
        f"index_dir = {json.dumps(str(settings.storage.index_dir))}\n"
        "[search]\n"
        f"synonyms_path = {json.dumps(str(root / 'synonyms.toml'))}\n"
        f"[server]\n{server}"
    )
    return path


def free_port() -> int:
    """A loopback port nothing listens on now (for a server started as a subprocess)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def document_fetch(url: str, doc: ExtractedDocument, *, source: str = "hub",
                   is_source: bool = False) -> Fetch:
    """A good fetch of an HTML page that extracted to `doc`, to record in a store as the
    crawler does (for tests of the stages after the crawl)."""
    body = "".join(section.text for section in doc.sections)
    return Fetch(url=url, final_url=url, source=source, status=200, content_type="text/html",
                 sha256=hashlib.sha256(body.encode()).hexdigest(), bytes=len(body),
                 document=doc, is_source=is_source)


def guide_fetch(url: str, text: str, *, links: tuple[str, ...] = (),
                is_source: bool = False) -> Fetch:
    """A good fetch of a one-section guide page."""
    doc = ExtractedDocument(title=f"Guide {url.rsplit('/', 1)[-1]}", doc_type="html",
                            language="en", sections=[Section(["Guide"], text)],
                            links=list(links))
    return document_fetch(url, doc, is_source=is_source)


def record_guides(settings: Settings, count: int,
                  hub: str = "https://hub.example/hub") -> list[str]:
    """Record, as one crawl would, a hub page linking `count` guides ("Guide number N on the
    duty to notify."); the guides' URLs."""
    from hubsearch.store import DocumentStore

    urls = [f"https://hub.example/docs/{n}" for n in range(count)]
    with DocumentStore(settings.storage.store_path) as store:
        store.record_fetch(guide_fetch(hub, "Guidance for professionals.", links=tuple(urls),
                                       is_source=True))
        for n, url in enumerate(urls):
            store.record_fetch(guide_fetch(url, f"Guide number {n} on the duty to notify."))
    return urls


MAINTAINER = ("morgan", "a long enough passphrase")


def add_maintainer(settings: Settings, name: str = MAINTAINER[0],
                   password: str = MAINTAINER[1]) -> None:
    """A maintainer account in the settings' store, as `hubsearch users add` makes one."""
    from hubsearch import accounts
    from hubsearch.store import DocumentStore

    with DocumentStore(settings.storage.store_path) as store:
        accounts.add(store, name, password)


def login_form_token(client, path: str = "/admin/login") -> str:
    """The CSRF value of the sign-in form (its cookie is kept by the client)."""
    import re

    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client, name: str = MAINTAINER[0], password: str = MAINTAINER[1], **extra: str):
    """Sign `client` in through the form, as a person would; the response (a redirect)."""
    token = login_form_token(client)
    return client.post("/admin/login", data={"csrf": token, "name": name,
                                             "password": password, **extra},
                       follow_redirects=False)


def page_csrf(html: str) -> str:
    """The session's CSRF value from a signed-in page's forms."""
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def own_store(settings: Settings, tmp: Path) -> Settings:
    """`settings` with a private copy of its store, with no accounts, sessions or audit
    entries (those a test makes stay out of the shared demo store), over the same index."""
    import sqlite3

    from hubsearch.store import DocumentStore

    target = tmp / "hub.sqlite"
    with sqlite3.connect(settings.storage.store_path) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with DocumentStore(target) as store, store.db:
        for table in ("maintainers", "sessions", "audit"):
            store.db.execute(f"DELETE FROM {table}")
    return dataclasses.replace(settings, storage=StorageSettings(
        store_path=target, index_dir=settings.storage.index_dir))


@pytest.fixture(scope="session")
def live_maintainer(live_server, demo_index) -> tuple[str, str]:
    """A maintainer account in the live server's store: (name, password)."""
    from hubsearch.accounts import AccountError

    try:
        add_maintainer(demo_index[0])
    except AccountError:
        pass  # made already by another test of this session
    return MAINTAINER
