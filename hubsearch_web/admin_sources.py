"""The maintainers' sources page: every configured hub page with its health, and forms to
add, change and remove one.

Edits go through hubsearch/config_edit.py, the code `hubsearch sources` uses: the same
validation (a whole config is parsed before anything is written, with the crawler's address
guard and duplicate names and URLs refused), comments and layout kept, under the same lock.
The page reads config.toml itself on every request: it is what the forms edit. A change
reaches the search pages of this server process at once, other processes' at their restart,
and the index at the next crawl and index run. Each change is in the audit log.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubsearch import audit, config_edit
from hubsearch.network_policy import AddressPolicy
from hubsearch.settings import ConfigError, Settings, is_http_url, load_settings
from hubsearch.status_snapshot import read_status
from hubsearch.store import DocumentStore
from hubsearch_web.admin_routes import render
from hubsearch_web.admin_session import (
    Refused,
    SignedIn,
    client_address,
    maintainer_form,
    maintainers_only,
)

MAX_TAGS = 20
FIELDS = ("url", "name", "title", "title_cy", "audience", "language", "follow_links")


def _config(request: Request) -> Settings:
    path = request.app.state.settings.path
    if path is None:
        raise Refused(409, "this server was started without a config file to edit")
    return load_settings(path)


def settings_policy(settings: Settings) -> AddressPolicy:
    return AddressPolicy.from_settings(settings.crawl.allow_private_networks,
                                       settings.crawl.allowed_networks)


def _health(request: Request) -> dict[str, dict[str, Any]]:
    status = read_status(request.app.state.settings.storage.index_dir) or {}
    return {row["name"]: row for row in status.get("sources", [])}


def _page(request: Request, who: SignedIn, *, form: dict[str, Any] | None = None,
          problem: str = "", done: str = "", status_code: int = 200,
          preview: dict[str, Any] | None = None) -> Response:
    settings = _config(request)
    return render(request, "admin_sources.html", {
        "who": who, "here": "sources", "sources": settings.sources,
        "health": _health(request), "form": form or {"follow_links": True},
        "problem": problem, "done": done, "preview": preview}, status_code=status_code)


# What the page says after a change: fixed texts, so a crafted link cannot put words there.
DONE = {"added": "Added {}.", "saved": "Saved {}.", "unchanged": "Nothing changed.",
        "removed": "Removed {}; its documents leave the index at the next crawl and index."}
_NAME = re.compile(r"[\w.-]{1,64}")


@maintainers_only
def sources_page(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    text = DONE.get(request.query_params.get("done", ""), "")
    name = request.query_params.get("name", "")
    done = text.format(name if _NAME.fullmatch(name) else "the source")
    return _page(request, who, done=done)


@maintainers_only
def edit_page(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    source = _source(request)
    return render(request, "admin_source_edit.html", {
        "who": who, "here": "sources", "source": source, "form": dataclasses.asdict(source),
        "problem": ""})


@maintainers_only
def remove_page(request: Request, store: DocumentStore, who: SignedIn) -> Response:
    return render(request, "admin_source_remove.html", {
        "who": who, "here": "sources", "source": _source(request)})


def _source(request: Request) -> Any:
    name = request.path_params["name"]
    for source in _config(request).sources:
        if source.name == name:
            return source
    raise Refused(404, "no source of that name")


def _tags(raw: Any) -> list[str]:
    tags = [t.strip() for t in str(raw or "").split(",") if t.strip()]
    if len(tags) > MAX_TAGS:
        raise ConfigError(f"at most {MAX_TAGS} audience tags")
    return tags


def _posted(form: FormData) -> dict[str, Any]:
    values = {key: form.get(key) for key in FIELDS}
    return {key: value if isinstance(value, str) else "" for key, value in values.items()} | {
        "follow_links": form.get("follow_links") == "on"}


def _after(request: Request, done: str, name: str) -> Response:
    root = request.scope.get("root_path", "")
    # Forms elsewhere in this process show the change at once (other processes on restart).
    request.app.state.settings = dataclasses.replace(
        _config(request), storage=request.app.state.settings.storage)
    query = urlencode({"done": done, "name": name})
    return RedirectResponse(f"{root}/admin/sources?{query}", status_code=303)


def _add(request: Request, form: FormData, store: DocumentStore, who: SignedIn) -> Response:
    posted = _posted(form)
    try:
        config_edit.add_source(
            request.app.state.settings.path, name=posted["name"].strip(),
            url=posted["url"].strip(), follow_links=posted["follow_links"],
            language=posted["language"], title=posted["title"].strip(),
            title_cy=posted["title_cy"].strip(), audience=_tags(posted["audience"]))
    except ConfigError as exc:
        return _page(request, who, form=posted, problem=str(exc), status_code=400)
    with store.db:
        audit.record(store, who.name, "source added", posted["name"].strip(),
                     posted["url"].strip(), client=client_address(request))
    return _after(request, "added", posted["name"].strip())


def _edit(request: Request, form: FormData, store: DocumentStore, who: SignedIn) -> Response:
    source = _source(request)
    posted = _posted(form)
    changes = {"title": posted["title"].strip(), "title_cy": posted["title_cy"].strip(),
               "language": posted["language"], "follow_links": posted["follow_links"]}
    try:
        changes["audience"] = _tags(posted["audience"])
        before = dataclasses.asdict(source)
        changed = sorted(k for k, v in changes.items()
                         if (list(before[k]) if k == "audience" else before[k]) != v)
        config_edit.update_source(request.app.state.settings.path, name=source.name,
                                  **changes)
    except ConfigError as exc:
        return render(request, "admin_source_edit.html", {
            "who": who, "here": "sources", "source": source,
            "form": {**dataclasses.asdict(source), **posted}, "problem": str(exc)},
            status_code=400)
    if changed:
        with store.db:
            audit.record(store, who.name, "source changed", source.name,
                         "changed " + ", ".join(changed), client=client_address(request))
    return _after(request, "saved" if changed else "unchanged", source.name)


PREVIEW_SECONDS = 120.0


def _preview(request: Request, form: FormData, store: DocumentStore, who: SignedIn
             ) -> Response:
    """What the proposed page would add: `hubsearch preview` (crawler/preview.py) in a
    process of its own, as a crawl runs, bounded in time; nothing is stored."""
    posted = _posted(form)
    url = posted["url"].strip()
    settings = _config(request)
    if not is_http_url(url):
        return _page(request, who, form=posted, status_code=400,
                     problem=f"not an http(s) URL with a host: {url[:200]!r}")
    refusal = settings_policy(settings).host_refusal(urlsplit(url).hostname or "")
    if refusal:
        return _page(request, who, form=posted, problem=f"{url[:200]}: {refusal}",
                     status_code=400)
    command = [sys.executable, "-m", "hubsearch.cli", "preview", "--json",
               "--config", str(settings.path)]
    if posted["language"] in ("en", "cy"):
        command += ["--language", posted["language"]]
    try:
        done = subprocess.run([*command, "--", url], capture_output=True, text=True,
                              timeout=PREVIEW_SECONDS, stdin=subprocess.DEVNULL,
                              cwd=str(settings.path.parent))
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        result = {"url": url, "error": f"the page took longer than {PREVIEW_SECONDS:.0f} s"}
    except (ValueError, IndexError):
        result = {"url": url, "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return _page(request, who, form=posted, preview=result)


def _remove(request: Request, form: FormData, store: DocumentStore, who: SignedIn) -> Response:
    source = _source(request)
    try:
        config_edit.remove_source(request.app.state.settings.path, name=source.name)
    except ConfigError as exc:
        raise Refused(400, str(exc)) from None
    with store.db:
        audit.record(store, who.name, "source removed", source.name, source.url,
                     client=client_address(request))
    return _after(request, "removed", source.name)


routes = [
    Route("/admin/sources", sources_page, methods=["GET"]),
    Route("/admin/sources", maintainer_form(_add), methods=["POST"]),
    Route("/admin/sources/preview", maintainer_form(_preview), methods=["POST"]),
    Route("/admin/sources/{name}/edit", edit_page, methods=["GET"]),
    Route("/admin/sources/{name}/edit", maintainer_form(_edit), methods=["POST"]),
    Route("/admin/sources/{name}/remove", remove_page, methods=["GET"]),
    Route("/admin/sources/{name}/remove", maintainer_form(_remove), methods=["POST"]),
]
