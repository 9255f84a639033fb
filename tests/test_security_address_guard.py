"""Attacks that try to turn the crawler on internal addresses, run with the guard on.

A hostile hub page on 127.0.0.1 (the one address the test's allow-list admits, standing in
for a public host) links to an "internal" server on 127.0.0.2 that plays a cloud metadata
endpoint, under every spelling a resolver accepts, and redirects to it. The internal server
must never see a single request, and each URL must be recorded with a one-line refusal.
"""

from __future__ import annotations

import dataclasses
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from conftest import settings_for
from sitekit import Page, ScriptedSite, html_page
from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer

from crawler.resolver import GuardedResolver
from crawler.run import run_crawl
from hubsearch.cli import main as cli_main
from hubsearch.network_policy import AddressPolicy
from hubsearch.settings import Source
from hubsearch.store import DocumentStore
from indexer.build import build_index
from indexer.search import PassageSearcher

SECRET = "AccessKeyId ASIAEXAMPLESECRET token for the instance role"
LOOPBACK_REFUSAL = r"^refused: resolves to a loopback address \(127\.0\.0\.2\)$"


def guarded(settings):
    """The test's settings with the guard on: only 127.0.0.1 (the hub) is allowed."""
    return dataclasses.replace(settings, crawl=dataclasses.replace(
        settings.crawl, allow_private_networks=False, allowed_networks=("127.0.0.1/32",)))


@pytest.fixture(scope="module")
def attack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guard")
    with ScriptedSite() as hub, ScriptedSite(host="127.0.0.2") as internal:
        port = internal.port
        internal.routes["/latest/meta-data/iam"] = Page(html_page("Credentials", [SECRET]))
        targets = {
            "dotted": f"http://127.0.0.2:{port}/latest/meta-data/iam",
            "decimal": f"http://2130706434:{port}/latest/meta-data/iam",
            "octal": f"http://0177.0.0.2:{port}/latest/meta-data/iam",
            "short": f"http://127.2:{port}/latest/meta-data/iam",
            "mapped": f"http://[::ffff:127.0.0.2]:{port}/latest/meta-data/iam",
            "redirect": f"{hub.url}/docs/moved.html",
        }
        hub.routes["/docs/moved.html"] = Page(
            "", status=302, headers={"Location": targets["dotted"]}, validators=False)
        hub.routes["/hub"] = Page(html_page(
            "Hub", ["Guidance for professionals on modern slavery."], list(targets.values())))
        settings = guarded(settings_for(tmp, f"{hub.url}/hub"))
        summary = run_crawl(settings)
        with DocumentStore(settings.storage.store_path) as store:
            rows = {name: store.get(url) for name, url in targets.items()}
        yield {"settings": settings, "summary": summary, "rows": rows,
               "internal_requests": list(internal.requests)}


def test_internal_server_never_receives_a_request_not_even_robots_txt(attack):
    assert attack["internal_requests"] == []


@pytest.mark.parametrize("spelling", ["dotted", "decimal", "octal", "short", "mapped"])
def test_link_to_internal_address_is_refused_with_a_one_line_reason(attack, spelling):
    row = attack["rows"][spelling]
    assert row is not None and row.document is None
    assert row.error.startswith("refused: resolves to a loopback address"), row.error
    assert "127.0.0.2" in row.error and "\n" not in row.error


def test_redirect_to_internal_address_is_refused_at_the_hop(attack):
    row = attack["rows"]["redirect"]
    assert row.document is None
    assert row.error == "refused: resolves to a loopback address (127.0.0.2)"


def test_refusal_reveals_nothing_about_the_internal_port(attack):
    # "connection refused" vs "timed out" would make the crawler a port scanner.
    for row in attack["rows"].values():
        assert "connection" not in row.error and "timed out" not in row.error


def test_internal_text_is_not_searchable(attack):
    settings = attack["settings"]
    build_index(settings)
    page = PassageSearcher(settings.storage.index_dir).search("AccessKeyId instance role")
    assert page.total_passages == 0


def test_guard_on_by_default_refuses_a_loopback_source_the_crawler_is_handed(tmp_path):
    # The config would refuse this source; the crawler must refuse it by itself as well.
    with ScriptedSite() as site:
        site.routes["/hub"] = Page(html_page("Hub", [SECRET]))
        base = settings_for(tmp_path, f"{site.url}/hub")
        settings = dataclasses.replace(
            base,
            crawl=dataclasses.replace(base.crawl, allow_private_networks=False,
                                      allowed_networks=()),
            sources=(Source(name="hub", url=f"{site.url}/hub"),),
        )
        run_crawl(settings)
        assert site.requests == []
    with DocumentStore(settings.storage.store_path) as store:
        row = store.get(f"{site.url}/hub")
    assert row.error == "refused: resolves to a loopback address (127.0.0.1)"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://localhost/admin",
    "http://[fd00::1]/",
    "http://100.64.0.1/",
    "http://[::ffff:169.254.169.254]/",
])
def test_sources_add_refuses_internal_addresses(tmp_path, capsys, url):
    config = tmp_path / "config.toml"
    config.write_text("[crawl]\n", encoding="utf-8")
    status = cli_main(["sources", "add", url, "--name", "internal", "--config", str(config)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "refused" in err
    assert config.read_text(encoding="utf-8") == "[crawl]\n"


def test_intranet_opt_in_still_refuses_the_metadata_address(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[crawl]\nallow_private_networks = true\n", encoding="utf-8")
    assert cli_main(["sources", "add", "http://10.1.2.3/hub", "--name", "intranet",
                     "--config", str(config)]) == 0
    status = cli_main(["sources", "add", "http://169.254.169.254/latest/meta-data/",
                       "--name", "metadata", "--config", str(config)])
    assert status == 2 and "link-local" in capsys.readouterr().err


@implementer(IHostnameResolver)
class RebindingDNS:
    """A DNS server under an attacker's control: a public answer first, loopback after."""

    def __init__(self) -> None:
        self.answers = ["93.184.215.14", "127.0.0.1"]
        self.asked = 0

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        address = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        receiver.resolutionBegan(None)
        receiver.addressResolved(IPv4Address("TCP", address, portNumber))
        receiver.resolutionComplete()
        return None


class _Reactor:
    def __init__(self, resolver) -> None:
        self.nameResolver = resolver


def _connect_addresses(resolver: GuardedResolver, host: str, port: int) -> list[str]:
    got: list[str] = []

    class Receiver:
        def resolutionBegan(self, resolution) -> None:
            pass

        def addressResolved(self, address) -> None:
            got.append(f"{address.host}:{address.port}")

        def resolutionComplete(self) -> None:
            pass

    resolver.resolveHostName(Receiver(), host, port)
    return got


def test_dns_rebinding_cannot_move_a_checked_host_to_loopback():
    dns = RebindingDNS()
    resolver = GuardedResolver(_Reactor(dns), AddressPolicy())
    # The middleware's check, then the connection: both see the first, public answer.
    checked = []
    resolver.check("rebind.example").addCallback(checked.append)
    assert not checked[0].refused
    assert _connect_addresses(resolver, "rebind.example", 443) == ["93.184.215.14:443"]
    assert _connect_addresses(resolver, "rebind.example", 80) == ["93.184.215.14:80"]
    assert dns.asked == 1


def test_resolver_never_hands_out_a_refused_address_even_unasked():
    dns = RebindingDNS()
    dns.answers = ["127.0.0.1"]
    resolver = GuardedResolver(_Reactor(dns), AddressPolicy())
    assert _connect_addresses(resolver, "inside.example", 80) == []
    result = []
    resolver.check("inside.example").addCallback(result.append)
    assert result[0].refusal == "refused: resolves to a loopback address (127.0.0.1)"


def test_failed_lookup_is_not_pinned():
    class NoAnswer:
        asked = 0

        def resolveHostName(self, receiver, *args, **kw):
            NoAnswer.asked += 1
            receiver.resolutionComplete()

    resolver = GuardedResolver(_Reactor(NoAnswer()), AddressPolicy())
    for _ in range(2):
        d = resolver.check("flaky.example")
        assert isinstance(d, defer.Deferred)
    assert NoAnswer.asked == 2


def _crawl_resolver(answer: str, allow_private: bool) -> GuardedResolver:
    """The resolver as a crawl builds it (proxies from the environment), over scripted DNS."""
    from scrapy.settings import Settings as ScrapySettings

    dns = RebindingDNS()
    dns.answers = [answer]

    class Process:
        settings = ScrapySettings({"HUBSEARCH_ALLOW_PRIVATE_NETWORKS": allow_private})

    return GuardedResolver.from_crawler(Process(), _Reactor(dns))


def test_operators_proxy_on_the_internal_network_may_be_reached(monkeypatch):
    # Scrapy sends requests to the proxy from http_proxy; refusing that connection would
    # stop every crawl behind an office proxy. The pages' own hosts are still checked.
    monkeypatch.setenv("http_proxy", "http://10.9.8.7:3128")
    resolver = _crawl_resolver(answer="10.9.8.7", allow_private=False)
    assert _connect_addresses(resolver, "10.9.8.7", 3128) == ["10.9.8.7:3128"]
    assert _connect_addresses(resolver, "10.9.8.8", 80) == []


class SplitHorizonProxy:
    """An office proxy whose own DNS knows names ours does not (internal.test -> 127.0.0.2)."""

    def __init__(self) -> None:
        proxy = self
        self.seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                proxy.seen.append(self.path)
                target = urlsplit(self.path)
                host = {"internal.test": "127.0.0.2"}.get(target.hostname, target.hostname)
                upstream = http.client.HTTPConnection(host, target.port, timeout=5)
                upstream.request("GET", target.path or "/")
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type") or "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SplitHorizonProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_proxy_cannot_be_used_to_reach_a_name_only_it_resolves(tmp_path, monkeypatch):
    with SplitHorizonProxy() as proxy, ScriptedSite() as hub, \
            ScriptedSite(host="127.0.0.2") as internal:
        internal.routes["/latest/meta-data/iam"] = Page(html_page("Credentials", [SECRET]))
        target = f"http://internal.test:{internal.port}/latest/meta-data/iam"
        hub.routes["/hub"] = Page(html_page("Hub", ["Guidance."], [target]))
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("no_proxy", "")
        settings = guarded(settings_for(tmp_path, f"{hub.url}/hub"))
        run_crawl(settings)
        assert internal.requests == []
        assert any(path.endswith("/hub") for path in proxy.seen), "the hub went by the proxy"
    with DocumentStore(settings.storage.store_path) as store:
        row = store.get(target)
    assert row.document is None and row.error.startswith("refused: the host does not resolve")


def test_no_proxy_list_gets_no_exemption_from_the_resolver(monkeypatch):
    monkeypatch.setenv("no_proxy", "169.254.169.254")
    monkeypatch.setenv("http_proxy", "http://10.9.8.7:3128")
    resolver = _crawl_resolver(answer="169.254.169.254", allow_private=True)
    assert _connect_addresses(resolver, "169.254.169.254", 80) == []


def test_site_local_ipv6_is_not_public():
    assert AddressPolicy().refusal("fec0::1") is not None
