"""Watching requests: one ASGI middleware that times each request and hands (method, path,
status, seconds) to observers, and the access log observer.

The access log records method, path, status and time, never the query string (uvicorn's own
access log is off because it prints it): staff queries can name the people they are
worried about, and `scope["path"]` never includes anything after the `?`. The path is
decoded from its %-escapes, so it is logged with control characters escaped and cut to
MAX_LOGGED_PATH: a request for `/%0Aforged` must not write a line of its own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger("hubsearch.access")

Observer = Callable[[str, str, int, float], None]
MAX_LOGGED_PATH = 200
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def loggable(path: str) -> str:
    """`path` safe for one log line: control characters escaped, at most MAX_LOGGED_PATH."""
    cut = path[:MAX_LOGGED_PATH] + ("…" if len(path) > MAX_LOGGED_PATH else "")
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), cut)


def access_log(method: str, path: str, status: int, seconds: float) -> None:
    logger.info("%s %s %d %.1fms", method, loggable(path), status, seconds * 1000)


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
