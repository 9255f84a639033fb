"""Running the search server on an open port: the listening socket and uvicorn's limits.

The server is meant to face staff networks without a proxy in front, so the limits a proxy
would give are set here, as constants (an operator has no reason to loosen them):

- at most MAX_CONNECTIONS open connections or running requests; past that uvicorn answers
  503 at once instead of queueing without end;
- a request line and headers of at most MAX_HEADER_BYTES: h11 answers 400 when they arrive
  in pieces past that, and `RequestLimits` answers 431 when they came in one read;
- a connection must deliver a whole request's headers within HEADER_SECONDS of opening or
  of its last response, and an idle keep-alive connection closes after KEEP_ALIVE_SECONDS.
  uvicorn's own keep-alive timer stops at the first byte and never starts on a new
  connection, so without the header deadline a client sending nothing, or one byte a
  second, would hold one of the MAX_CONNECTIONS places for ever (slowloris);
- request bodies are refused (`RequestLimits`, 413) but the maintainers' small forms.

The socket is bound here, before uvicorn starts, so a port in use or a bad address is one
line (`BindError`), not uvicorn's log and exit. With `workers` > 1 that one socket is handed
to uvicorn's supervisor, which starts that many worker processes accepting on it; each
imports the app from an import string and opens the index itself, so what they share is the
index files in the OS page cache (indexer/generations.py opens them without private copies).
The limits above apply per worker.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import ipaddress
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.supervisors import Multiprocess

from hubsearch.errors import HubsearchError
from hubsearch.settings import CONFIG_ENV, ServerSettings
from hubsearch_web import access_log

MAX_CONNECTIONS = 64
MAX_HEADER_BYTES = 16 * 1024
HEADER_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
BACKLOG = 2048  # uvicorn's default


class BindError(HubsearchError):
    """The server cannot listen where it was asked to."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port (port 0: any free one), ready for uvicorn."""
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    if not 0 <= port <= 65535:
        raise BindError(f"port {port} is out of range (1-65535)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise BindError(f"cannot listen on {where}: unknown host ({exc})") from None
    sock = socket.socket(family, kind, proto)
    try:
        # As uvicorn does: a restart may bind while the old connections are in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BindError(f"port {port} is in use on {host}") from None
        if exc.errno == errno.EACCES:
            raise BindError(f"no permission to listen on port {port} of {host}") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise BindError(f"cannot listen on {where}: not an address of this machine") \
                from None
        raise BindError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    # Listening at once: a connection made before uvicorn's loop runs waits in the backlog.
    sock.listen(BACKLOG)
    return sock


class HeaderDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers (see above)."""

    header_seconds = HEADER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_seconds, self._too_slow)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a whole request arrived: the app has it now
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._header_deadline = None
        # Only between requests: a request being answered is the app's to finish.
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()


def _with_deadline(seconds: float) -> type[HeaderDeadlineH11]:
    if seconds == HEADER_SECONDS:
        return HeaderDeadlineH11
    return type("HeaderDeadlineH11", (HeaderDeadlineH11,), {"header_seconds": seconds})


def uvicorn_config(
    app: Any,
    *,
    max_connections: int = MAX_CONNECTIONS,
    header_seconds: float = HEADER_SECONDS,
    keep_alive_seconds: float = KEEP_ALIVE_SECONDS,
    log_level: str = "info",
    workers: int = 1,
    server: ServerSettings | None = None,
) -> uvicorn.Config:
    """uvicorn's configuration with the limits above (tests shorten the times).

    `app` is an ASGI app, or the "module:function" import string of a factory making one
    (required for workers > 1: each worker process builds its own). Its access log is off:
    it would print query strings (hubsearch/access_log.py logs requests without them, to
    stderr as `server.access_log_format`, "text" or "json", through the logging set-up
    here). Behind a reverse proxy: `server.root_path` is the sub-path it serves us under,
    and only `server.trusted_proxies` may say, in X-Forwarded-For and X-Forwarded-Proto,
    who the client is and which scheme it used.
    """
    server = server or ServerSettings(host="127.0.0.1", port=0)
    log_config = copy.deepcopy(LOGGING_CONFIG)
    for part, entries in access_log.handler_config(server.access_log_format).items():
        log_config[part].update(entries)
    return uvicorn.Config(
        app,
        root_path=server.root_path,
        proxy_headers=True,
        forwarded_allow_ips=list(server.trusted_proxies),
        factory=isinstance(app, str),
        workers=workers,
        http=_with_deadline(header_seconds),
        limit_concurrency=max_connections,
        timeout_keep_alive=keep_alive_seconds,  # type: ignore[arg-type]  # a float works
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        access_log=False,
        log_level=log_level,
        log_config=log_config,
    )


def run(app: Any, host: str, port: int, *, workers: int = 1,
        server: ServerSettings | None = None) -> None:
    """Serve `app` on host:port until interrupted; BindError if it cannot listen there.

    With workers > 1, `app` must be the import string of an app factory (see above).
    """
    if workers > 1 and not isinstance(app, str):
        raise ValueError("several workers need the app as a 'module:factory' import string")
    sock = bind(host, port)
    try:
        config = uvicorn_config(app, workers=workers, server=server)
        # uvicorn says where it listens only for sockets it binds itself; this is its line
        # (with the port the OS chose for port 0), which scripts and tests read.
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        logging.getLogger("uvicorn.error").info(
            "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", shown, bound_port)
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


# What each worker process imports and calls (search_server.app_from_env reads the config
# named by CONFIG_ENV): a name, so the supervisor needs none of the search stack itself.
WORKER_APP = "search_server:app_from_env"


def run_workers(config_path: Path, host: str, port: int, workers: int,
                server: ServerSettings | None = None) -> None:
    """Serve with `workers` processes, each loading the app and the config at `config_path`.

    The supervisor only binds the socket and watches its workers, so it stays small (~20 MB,
    against ~55 MB with the search stack imported).
    """
    # Inherited by the worker processes, which spawn and import WORKER_APP.
    os.environ[CONFIG_ENV] = str(Path(config_path).resolve())
    run(WORKER_APP, host, port, workers=workers, server=server)


# The maintainers' forms (sign-in, sources) are small: their bodies stay under this.
MAX_FORM_BYTES = 16 * 1024
FORM_PATHS = "/admin/"


class RequestLimits:
    """Pure ASGI middleware: a request with a body is answered 413, unread, unless it is a
    POST of at most MAX_FORM_BYTES, its length declared, to a maintainers' form (under
    /admin/); one whose request line and headers pass MAX_HEADER_BYTES is answered 431."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if _declares_body(scope["headers"]) and not _a_form(scope):
                await _refuse(send, 413, "request bodies are accepted only by the "
                                         f"maintainers' forms, up to {MAX_FORM_BYTES} bytes")
                return
            if _header_bytes(scope) > MAX_HEADER_BYTES:
                await _refuse(send, 431, f"request headers over {MAX_HEADER_BYTES} bytes")
                return
        await self.app(scope, receive, send)


# What maintainers read: link health, index status and metrics, and everything under /admin
# (server.status_networks).
STATUS_PATHS = frozenset({"/status", "/api/status", "/metrics"})


def _maintainers_path(path: str) -> bool:
    path = path.rstrip("/")
    return path in STATUS_PATHS or path == "/admin" or path.startswith("/admin/")


class StatusNetworks:
    """Pure ASGI middleware: /status, /api/status, /metrics and /admin answer 404, as if
    absent, to a client outside `networks` (none: everyone sees them). The client is the address
    uvicorn settled on: the forwarded one only when the connection came from a trusted
    proxy (server.trusted_proxies)."""

    def __init__(self, app: Any, networks: tuple[str, ...] = ()) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.networks:
            root, path = scope.get("root_path", ""), scope["path"]
            if root and path.startswith(root):
                path = path[len(root):]
            if _maintainers_path(path) and not self.allows(scope):
                await _refuse(send, 404, "Not Found", close=False)
                return
        await self.app(scope, receive, send)

    def allows(self, scope: dict) -> bool:
        """Whether the request's client may see the maintainers' pages."""
        if not self.networks:
            return True
        try:
            address = ipaddress.ip_address((scope.get("client") or ())[0])
        except (TypeError, ValueError, IndexError):
            return False  # no address (a Unix socket, a test client): not known to be inside
        return any(address in network for network in self.networks)


async def _refuse(send: Any, status: int, message: str, close: bool = True) -> None:
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if close:
        # Whatever else the client sent is not read: this connection is done.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header_bytes(scope: dict) -> int:
    line = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"])


def _a_form(scope: dict) -> bool:
    """A POST to a maintainers' form, its body's length declared and small."""
    root, path = scope.get("root_path", ""), scope["path"]
    if root and path.startswith(root):
        path = path[len(root):]
    if scope["method"] != "POST" or not path.startswith(FORM_PATHS):
        return False
    lengths = [v for k, v in scope["headers"] if k == b"content-length"]
    if len(lengths) != 1 or any(k == b"transfer-encoding" for k, _ in scope["headers"]):
        return False  # chunked, or two lengths: the size is not known before reading
    return lengths[0].strip().isdigit() and int(lengths[0]) <= MAX_FORM_BYTES


def _declares_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and value.strip() not in (b"", b"0"):
            return True
    return False
