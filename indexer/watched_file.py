"""A maintainer-edited file the search server re-reads when it changes (synonyms, best bets).

Checked on each use by its modification time, so an edit takes effect on the next query:
no re-index, no restart. A missing file means no entries. A file broken by an edit is
logged and the last good version keeps serving, so a typo never takes search down; at
start-up (`strict`) it fails instead, with the loader's one-line reason.
"""

from __future__ import annotations

import logging
import os
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from hubsearch.errors import HubsearchError

logger = logging.getLogger("hubsearch.files")

T = TypeVar("T")


def read_toml(path: Path, error: type[HubsearchError]) -> dict[str, Any]:
    """The parsed file, or `error` with a one-line reason."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None


class WatchedFile(Generic[T]):
    """The value `load` makes of `path`, made again when the file's modification time
    changes; `empty` while there is no file."""

    def __init__(self, path: Path | None, load: Callable[[Path], T], empty: T,
                 what: str) -> None:
        self.path = Path(path) if path else None
        self._load = load
        self._empty = empty
        self._what = what
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._current = empty
        self.get(strict=True)

    def _mtime(self) -> int | None:
        try:
            return os.stat(self.path).st_mtime_ns if self.path else None
        except OSError:
            return None

    def get(self, strict: bool = False) -> T:
        stamp = self._mtime()
        if stamp == self._stamp:
            return self._current
        with self._lock:
            if stamp != self._stamp:
                if stamp is None:
                    if self.path is not None:
                        logger.warning("no %s file at %s; searching without %s",
                                       self._what, self.path, self._what)
                    self._current = self._empty
                else:
                    try:
                        self._current = self._load(self.path)  # type: ignore[arg-type]
                    except HubsearchError as exc:
                        if strict:
                            raise
                        logger.error("%s; keeping the previous %s", exc, self._what)
                self._stamp = stamp
        return self._current
