"""server.status_networks keeps the maintainers' pages (/status, /api/status, /metrics,
/admin) to the networks named; server.root_path and the proxy settings are checked like
every other key."""

from __future__ import annotations

import dataclasses
import urllib.error
import urllib.request

import pytest
from conftest import LiveServer

from hubsearch.settings import ConfigError, parse_settings
from search_server import create_app

MAINTAINERS = ("/status", "/api/status", "/metrics", "/admin", "/admin/login")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _serving(settings, networks: tuple[str, ...]) -> LiveServer:
    server = dataclasses.replace(settings.server, status_networks=networks)
    return LiveServer(create_app(dataclasses.replace(settings, server=server)))


def test_a_client_outside_the_status_networks_gets_404_and_search_still_works(demo_index):
    settings, _ = demo_index
    with _serving(settings, ("10.0.0.0/8",)) as live:
        assert [_status(live.url + p) for p in MAINTAINERS] == [404] * len(MAINTAINERS)
        assert _status(live.url + "/api/search?q=guidance") == 200
        with urllib.request.urlopen(live.url + "/?q=guidance", timeout=30) as response:
            assert 'href="/status' not in response.read().decode(), "no link to a 404"


def test_a_client_inside_the_status_networks_sees_them(demo_index):
    settings, _ = demo_index
    with _serving(settings, ("127.0.0.0/8", "::1/128")) as live:
        # /status and /admin lead to the sign-in form (tests/test_admin_sign_in.py).
        assert [_status(live.url + p) for p in MAINTAINERS] == [200] * len(MAINTAINERS)
        with urllib.request.urlopen(live.url + "/?q=guidance", timeout=30) as response:
            assert 'href="/status' in response.read().decode()


@pytest.mark.parametrize("line, message", [
    ('root_path = "guidance"', "server.root_path (line 2): expected a path"),
    ('root_path = "/guidance/"', "server.root_path (line 2): expected a path"),
    ('root_path = "/a b"', "server.root_path (line 2): expected a path"),
    ('root_path = "/x/../admin"', "server.root_path (line 2): expected a path"),
    ('status_networks = ["10.0.0.0/33"]', "server.status_networks (line 2): not an address"),
    ('trusted_proxies = ["proxy.example"]', "server.trusted_proxies (line 2): not an address"),
    ("trusted_proxies = [1]", "server.trusted_proxies (line 2): not an address"),
])
def test_bad_proxy_settings_are_one_line_config_errors(tmp_path, line, message):
    with pytest.raises(ConfigError) as raised:
        parse_settings(f"[server]\n{line}\n", tmp_path / "config.toml")
    assert message in str(raised.value) and "\n" not in str(raised.value)
