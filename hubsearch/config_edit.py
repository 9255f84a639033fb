"""Add, change and remove `[[sources]]` in config.toml without disturbing anything else in
the file: for the `hubsearch sources` command and the maintainers' sources page alike.

This module owns every write to the config file (settings.py only reads it). An edit is made
to the text, so comments, blank lines and key order survive; tomlkit is used to read the file,
to render the new table with correct escaping, and to check that the edited text means exactly
the old document plus or minus one source. The result is validated with `parse_settings` and
written atomically, so a refused or interrupted edit leaves the old file as it was. Edits
hold a sidecar lock (hubsearch/locks.py) from read to replace, so two at once cannot lose one.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT

from hubsearch.locks import config_edit_lock
from hubsearch.settings import ConfigError, is_http_url, parse_settings

LANGUAGES = ("", "en", "cy")

_SOURCES_HEADER = re.compile(r"^\s*\[\[\s*sources\s*\]\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_BLANK_OR_COMMENT = re.compile(r"^\s*(#.*)?$")


# What `update_source` may change; a source's name and URL are its identity (remove it and
# add the new one instead), so every report and audit entry keeps meaning one thing.
EDITABLE = ("title", "title_cy", "audience", "language", "follow_links")


def add_source(
    path: Path, *, name: str, url: str, follow_links: bool = True, language: str = "",
    title: str = "", title_cy: str = "", audience: tuple[str, ...] | list[str] = (),
) -> None:
    """Append a `[[sources]]` table to the config at `path`; ConfigError if it is refused."""
    with config_edit_lock(path):
        _add_source(path, name=name, url=url, follow_links=follow_links, language=language,
                    title=title, title_cy=title_cy, audience=list(audience))


def update_source(path: Path, *, name: str, **changes: Any) -> None:
    """Change EDITABLE keys of the source called `name`; ConfigError if refused. Comments
    and the layout of the rest of the file are kept."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ConfigError(f"source {name!r}: cannot change {', '.join(sorted(unknown))} "
                          f"(only {', '.join(EDITABLE)})")
    if "language" in changes and changes["language"] not in LANGUAGES:
        raise ConfigError(f"source {name!r}: language must be 'en', 'cy' or empty, got "
                          f"{changes['language']!r}")
    with config_edit_lock(path):
        text, doc = _read(path)
        existing = _sources(doc)
        names = [src.get("name") for src in existing]
        if name not in names:
            raise ConfigError(f"{path}: no source named {name!r}")
        index = names.index(name)
        updated = {**existing[index], **changes}
        # An empty title or language is the default: not written where there was none.
        updated = {k: v for k, v in updated.items()
                   if not (k in ("title", "title_cy", "language") and v == ""
                           and k not in existing[index])}
        if updated == existing[index]:
            return
        expected = doc.unwrap()
        expected["sources"] = [updated if i == index else src for i, src in enumerate(existing)]
        edited = tomlkit.parse(text)
        table = edited["sources"][index]
        for key in EDITABLE:
            if key in updated:
                table[key] = updated[key]
            elif key in table:
                del table[key]
        _write_checked(path, tomlkit.dumps(edited), expected, name=name, index=index)


def _add_source(path: Path, *, name: str, url: str, follow_links: bool, language: str,
                title: str = "", title_cy: str = "", audience: list[str] | None = None) -> None:
    text, doc = _read(path)
    name = name.strip() if isinstance(name, str) else name
    if not name:
        raise ConfigError("source name is empty: give --name NAME")
    if not is_http_url(url):
        raise ConfigError(f"source {name!r}: not an http(s) URL with a host: {url!r}")
    if language not in LANGUAGES:
        raise ConfigError(
            f"source {name!r}: language must be 'en', 'cy' or empty, got {language!r}"
        )
    existing = _sources(doc)
    for src in existing:
        if src.get("name") == name:
            raise ConfigError(f"{path}: a source named {name!r} already exists")
        if src.get("url") == url:
            raise ConfigError(f"{path}: source {src.get('name')!r} already has the URL {url!r}")

    new: dict[str, Any] = {"name": name, "url": url, "follow_links": follow_links,
                           "language": language}
    for key, value in (("title", title), ("title_cy", title_cy), ("audience", audience)):
        if value:
            new[key] = value
    expected = doc.unwrap()
    expected["sources"] = [*existing, new]

    # Appending the rendered table at the end of the file leaves every existing byte in place.
    block = tomlkit.dumps({"sources": [new]})
    sep = "" if not text or text.endswith("\n") else "\n"
    candidate = text + sep + ("\n" if text.strip() else "") + block
    if not _means(candidate, expected):
        # E.g. `sources = [...]` written inline: fall back to tomlkit's structural edit.
        candidate = _structural_add(text, new)
    _write_checked(path, candidate, expected, name=name, index=len(existing))


def remove_source(path: Path, *, name: str) -> None:
    """Remove the source called `name` from the config at `path`; ConfigError if unknown."""
    with config_edit_lock(path):
        _remove_source(path, name=name)


def _remove_source(path: Path, *, name: str) -> None:
    text, doc = _read(path)
    existing = _sources(doc)
    names = [src.get("name") for src in existing]
    if name not in names:
        known = ", ".join(repr(n) for n in names) or "none"
        raise ConfigError(f"{path}: no source named {name!r} (sources: {known})")
    index = names.index(name)
    expected = doc.unwrap()
    remaining = [src for i, src in enumerate(existing) if i != index]
    if remaining:
        expected["sources"] = remaining
    else:
        expected.pop("sources", None)

    candidate = _cut_source_block(text, index)
    if candidate is None or not _means(candidate, expected):
        candidate = _structural_remove(text, index)
        if not remaining and _means(candidate, {**expected, "sources": []}):
            # tomlkit leaves `sources = []` behind; that means the same to parse_settings.
            expected = {**expected, "sources": []}
    _write_checked(path, candidate, expected)


def _read(path: Path) -> tuple[str, tomlkit.TOMLDocument]:
    """The config's text and document; refuse to edit a file that does not validate."""
    try:
        # Bytes, not read_text(): newline translation would rewrite CRLF files on save.
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (use --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    try:
        parse_settings(text, path)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (config not changed; fix it first)") from None
    return text, tomlkit.parse(text)


def _sources(doc: tomlkit.TOMLDocument) -> list[dict[str, Any]]:
    return list(doc.unwrap().get("sources", []))


def _means(text: str, expected: dict[str, Any]) -> bool:
    """True if `text` parses to exactly `expected` (the guard on every text-level edit)."""
    try:
        return tomlkit.parse(text).unwrap() == expected
    except TOMLKitError:
        return False


def _cut_source_block(text: str, index: int) -> str | None:
    """Text without the index-th `[[sources]]` header and its keys, or None if not found.

    Comments inside the table go with it; comments after its last key are kept, since they
    usually introduce what follows. One blank separator line goes too, so that an add
    followed by a remove gives back the original bytes.
    """
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _SOURCES_HEADER.match(line)]
    if len(headers) <= index:
        return None
    start = headers[index]
    end = next((i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
    last = start
    for i in range(start + 1, end):
        if not _BLANK_OR_COMMENT.match(lines[i]):
            last = i
    stop = last + 1
    after_is_gap = stop == len(lines) or not lines[stop].strip()
    if start > 0 and not lines[start - 1].strip() and after_is_gap:
        start -= 1
    return "".join(lines[:start] + lines[stop:])


def _structural_add(text: str, new: dict[str, Any]) -> str:
    doc = tomlkit.parse(text)
    sources = doc.get("sources")
    if sources is None:
        aot = tomlkit.aot()
        aot.append(tomlkit.item(new))
        doc.append("sources", aot)
    elif isinstance(sources, AoT):
        sources.append(tomlkit.item(new))
    else:
        inline = tomlkit.inline_table()
        inline.update(new)
        sources.append(inline)
    return tomlkit.dumps(doc)


def _structural_remove(text: str, index: int) -> str:
    doc = tomlkit.parse(text)
    del doc["sources"][index]
    return tomlkit.dumps(doc)


def _write_checked(path: Path, text: str, expected: dict[str, Any], *,
                   name: str | None = None, index: int | None = None) -> None:
    """Validate the new text as a whole config, then replace the file atomically."""
    if not _means(text, expected):
        raise ConfigError(f"{path}: could not edit the file safely; edit it by hand")
    try:
        parse_settings(text, path)
    except ConfigError as exc:
        # The edited source's problem, said of the source rather than of a line in a file
        # that was never written ("sources[3].url (line 40): ..." -> "source 'x' url: ...").
        prefix = re.match(rf"^sources\[{index}\]\.(\w+)(?: \(line \d+\))?: ", str(exc))
        if name is None or prefix is None:
            raise
        raise ConfigError(
            f"source {name!r} {prefix.group(1)}: {str(exc)[prefix.end():]}"
        ) from None
    _atomic_write(path, text.encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory and os.replace: old file or new, never half."""
    path = Path(os.path.realpath(path))  # replace a symlinked config's target, not the link
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp creates 0600; keep the config's own permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
