"""Watching requests: one ASGI middleware that times each request and hands (method, path,
status, seconds) to observers, and the access log observer.

The access log records method, path, status and time, never the query string (uvicorn's own
access log is off because it prints it): staff queries can name the people they are
worried about, and `scope["path"]` never includes anything after the `?`. The path is
decoded from its %-escapes, so it is logged with control characters escaped and cut to
MAX_LOGGED_PATH: a request for `/%0Aforged` must not write a line of its own.

`handler_config` is what the server adds to uvicorn's logging set-up so these lines reach
stderr (journald, a process manager, a terminal), as text or as JSON lines (setting
server.access_log_format), in the server process or in each worker process.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from hubsearch.stderr_handler import Stderr

logger = logging.getLogger("hubsearch.access")

Observer = Callable[[str, str, int, float], None]
MAX_LOGGED_PATH = 200
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def loggable(path: str) -> str:
    """`path` safe for one log line: control characters escaped, at most MAX_LOGGED_PATH."""
    cut = path[:MAX_LOGGED_PATH] + ("…" if len(path) > MAX_LOGGED_PATH else "")
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), cut)


def access_log(method: str, path: str, status: int, seconds: float) -> None:
    shown, ms = loggable(path), round(seconds * 1000, 1)
    logger.info("%s %s %d %.1fms", method, shown, status, ms,
                extra={"method": method, "path": shown, "status": status, "duration_ms": ms})


class JsonLines(logging.Formatter):
    """One JSON object a request: time, method, path, status, duration_ms."""

    def format(self, record: logging.LogRecord) -> str:
        fields = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z")}
        for name in ("method", "path", "status", "duration_ms"):
            fields[name] = getattr(record, name, None)
        return json.dumps(fields, ensure_ascii=False)


def handler_config(log_format: str = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` fragment giving the access logger its stderr handler.

    The logger still propagates: nothing above it has a handler in the server, and tests
    read its records from the root logger.
    """
    formatter: dict[str, Any] = (
        {"()": JsonLines} if log_format == "json"
        else {"format": "%(asctime)s %(message)s", "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    return {
        "formatters": {"hubsearch_access": formatter},
        "handlers": {"hubsearch_access": {"()": Stderr, "formatter": "hubsearch_access"}},
        "loggers": {"hubsearch.access": {"handlers": ["hubsearch_access"], "level": "INFO"}},
    }


class ObservedRequests:
    def __init__(self, app: Any, observers: Sequence[Observer] = (access_log,)) -> None:
        self.app = app
        self.observers = observers

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            for observe in self.observers:
                observe(scope["method"], scope["path"], status, seconds)
