"""The logging handler every command and the server write their lines through."""

from __future__ import annotations

import logging
import sys
from typing import Any


class Stderr(logging.StreamHandler):
    """A handler writing to whatever sys.stderr is when a line is written (not when the
    handler was made), as logging's own last-resort handler does."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass
