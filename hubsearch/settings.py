"""Load and validate config.toml once, into one immutable `Settings` object passed down.

Every setting is declared once below as (name, type, default, help); validation, the
defaults and the documentation test are all driven from that one table, so a new setting
cannot be half-added. Nothing else in the code base reads config.toml.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from tomlkit.exceptions import ParseError

from hubsearch.errors import HubsearchError
from hubsearch.network_policy import AddressPolicy

DEFAULT_CONFIG = Path("config.toml")


class ConfigError(HubsearchError):
    """A config problem, as one line that names the key (and the line where known)."""

    status = 2


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    help: str


# (section -> options). `...` as a default marks a required option.
SPEC: dict[str, tuple[Option, ...]] = {
    "crawl": (
        Option(
            "user_agent",
            str,
            "Hubsearch/0.1 (+https://github.com/hubsearch/hubsearch; safeguarding guidance search)",
            "User-Agent sent with every request; name the service and give a contact URL.",
        ),
        Option("obey_robots_txt", bool, True, "Honour robots.txt of every host fetched."),
        Option("download_delay", float, 1.0, "Minimum seconds between requests to one host."),
        Option(
            "autothrottle_target_concurrency",
            float,
            1.0,
            "AutoThrottle's target number of parallel requests per host.",
        ),
        Option("concurrent_requests_per_domain", int, 2, "Hard cap on parallel requests per host."),
        Option("download_timeout", int, 30, "Seconds before a request is given up."),
        Option("max_document_bytes", int, 50 * 1024 * 1024, "Larger documents are not downloaded."),
        Option("depth_limit", int, 1, "Link hops followed from a source page."),
        Option("retry_times", int, 2, "Retries of a transient failure (5xx, timeout) per crawl."),
        Option(
            "gone_after_failures",
            int,
            2,
            "A document answering 404 this many crawls in a row is removed (410 at once).",
        ),
        Option("max_links_per_page", int, 200, "Links followed from one source page at most."),
        Option("parse_timeout", float, 60.0, "Seconds one document may take to parse."),
        Option("parse_memory_mb", int, 2048, "Memory one document's parser may use, in MB."),
        Option(
            "allow_private_networks",
            bool,
            False,
            "Also crawl loopback, private (RFC 1918, fc00::/7) and CGNAT addresses: only for "
            "an intranet hub. Link-local (cloud metadata) stays refused unless listed below.",
        ),
        Option(
            "allowed_networks",
            list,
            [],
            "Networks the crawler may reach even though they are not public, e.g. "
            "[\"10.20.0.0/16\"]: the narrow alternative to allow_private_networks.",
        ),
    ),
    "index": (
        Option(
            "max_failed_share",
            float,
            0.3,
            "If more than this share of a crawl's documents failed, keep the previous index.",
        ),
    ),
    "search": (
        Option(
            "synonyms_path",
            str,
            "synonyms.toml",
            "Synonyms and acronyms file (relative to config); empty for none. Re-read on change.",
        ),
    ),
    "storage": (
        Option("store_path", str, "data/hub.sqlite", "SQLite document store (relative to config)."),
        Option("index_dir", str, "data/index", "Index generations directory (relative to config)."),
    ),
    "server": (
        Option("host", str, "127.0.0.1", "Address the search server listens on."),
        Option("port", int, 8000, "Port the search server listens on."),
    ),
    "schedule": (
        Option("cron", str, "30 2 * * *", "When the nightly crawl and index run (crontab syntax)."),
        Option("timezone", str, "Europe/London", "Time zone the cron expression is read in."),
        Option(
            "misfire_grace_hours",
            float,
            6.0,
            "A run missed while the scheduler was down still runs if it is at most this late.",
        ),
    ),
}

SOURCE_SPEC: tuple[Option, ...] = (
    Option("name", str, ..., "Short unique name, used in reports and filters."),
    Option("url", str, ..., "The hub page to fetch (http or https)."),
    Option(
        "follow_links",
        bool,
        True,
        "Also fetch the documents this page's main content links to (one hop, any host).",
    ),
    Option("language", str, "", "Expected language of the page (en or cy); empty to detect."),
    Option(
        "audience",
        list,
        [],
        "Audience tags for filtering, e.g. [\"health\", \"education\", \"police\"].",
    ),
)


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    follow_links: bool = True
    language: str = ""
    audience: tuple[str, ...] = ()


@dataclass(frozen=True)
class CrawlSettings:
    user_agent: str
    obey_robots_txt: bool
    download_delay: float
    autothrottle_target_concurrency: float
    concurrent_requests_per_domain: int
    download_timeout: int
    max_document_bytes: int
    depth_limit: int
    retry_times: int
    gone_after_failures: int
    max_links_per_page: int
    parse_timeout: float
    parse_memory_mb: int
    allow_private_networks: bool = False
    allowed_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexSettings:
    max_failed_share: float


@dataclass(frozen=True)
class SearchSettings:
    # None: search without synonyms.
    synonyms_path: Path | None = None


@dataclass(frozen=True)
class StorageSettings:
    store_path: Path
    index_dir: Path


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str
    timezone: str
    misfire_grace_hours: float


@dataclass(frozen=True)
class Settings:
    path: Path
    crawl: CrawlSettings
    storage: StorageSettings
    server: ServerSettings
    schedule: ScheduleSettings
    index: IndexSettings = IndexSettings(max_failed_share=0.3)
    search: SearchSettings = SearchSettings()
    sources: tuple[Source, ...] = field(default_factory=tuple)


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace."""
    if not isinstance(url, str) or re.search(r"\s", url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _line_of(text: str, table: str | None, key: str, index: int = 0) -> int | None:
    """Best-effort line number of `key` inside `[table]` (or the index-th `[[table]]`)."""
    lines = text.splitlines()
    start = 0
    if table is not None:
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?\s*(#.*)?$")
        hits = [i for i, line in enumerate(lines) if header.match(line)]
        if len(hits) <= index:
            return None
        start = hits[index] + 1
    key_re = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start, len(lines)):
        if table is not None and re.match(r"^\s*\[", lines[i]):
            break
        if key_re.match(lines[i]):
            return i + 1
    return None


def _where(text: str, table: str | None, key: str, index: int = 0) -> str:
    line = _line_of(text, table, key, index)
    return f" (line {line})" if line else ""


def _cast(value: Any, opt: Option, label: str, where: str) -> Any:
    expected = opt.type
    # TOML ints are acceptable where a float is wanted; bools are never numbers.
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected in (int, float) and isinstance(value, bool):
        raise ConfigError(f"{label}{where}: expected {expected.__name__}, got {value!r}")
    if not isinstance(value, expected):
        raise ConfigError(
            f"{label}{where}: expected {expected.__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def _read_table(
    raw: dict[str, Any], options: tuple[Option, ...], text: str, table: str, index: int = 0
) -> dict[str, Any]:
    known = {o.name: o for o in options}
    label_of = (lambda k: f"{table}[{index}].{k}") if table == "sources" else (
        lambda k: f"{table}.{k}"
    )
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"unknown key {label_of(key)}{_where(text, table, key, index)}; "
                f"known keys: {', '.join(known)}"
            )
    values: dict[str, Any] = {}
    for opt in options:
        if opt.name in raw:
            value = raw[opt.name]
            value = value.unwrap() if hasattr(value, "unwrap") else value
            values[opt.name] = _cast(
                value, opt, label_of(opt.name), _where(text, table, opt.name, index)
            )
        elif opt.default is ...:
            raise ConfigError(f"missing key {label_of(opt.name)}: {opt.help}")
        else:
            values[opt.name] = opt.default
    return values


def _check_ranges(values: dict[str, dict[str, Any]], text: str) -> None:
    positive = {
        ("crawl", "max_document_bytes"),
        ("crawl", "download_timeout"),
        ("crawl", "concurrent_requests_per_domain"),
        ("crawl", "autothrottle_target_concurrency"),
        ("crawl", "gone_after_failures"),
        ("crawl", "max_links_per_page"),
        ("crawl", "parse_timeout"),
        ("crawl", "parse_memory_mb"),
    }
    non_negative = {
        ("crawl", "download_delay"),
        ("crawl", "depth_limit"),
        ("crawl", "retry_times"),
        ("schedule", "misfire_grace_hours"),
    }
    for table, key in positive | non_negative:
        v = values[table][key]
        floor_ok = v > 0 if (table, key) in positive else v >= 0
        if not floor_ok:
            bound = "positive" if (table, key) in positive else "zero or more"
            where = _where(text, table, key)
            raise ConfigError(f"{table}.{key}{where}: must be {bound}, got {v!r}")
    share = values["index"]["max_failed_share"]
    if not 0 <= share <= 1:
        where = _where(text, "index", "max_failed_share")
        raise ConfigError(f"index.max_failed_share{where}: must be between 0 and 1, got {share}")
    port = values["server"]["port"]
    if not 0 <= port <= 65535:
        raise ConfigError(f"server.port{_where(text, 'server', 'port')}: not a port number: {port}")
    cron = values["schedule"]["cron"]
    if len(cron.split()) != 5:
        raise ConfigError(
            f"schedule.cron{_where(text, 'schedule', 'cron')}: "
            f"expected 5 crontab fields, got {cron!r}"
        )
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(values["schedule"]["timezone"])
    except Exception:
        tz = values["schedule"]["timezone"]
        raise ConfigError(
            f"schedule.timezone{_where(text, 'schedule', 'timezone')}: unknown time zone {tz!r}"
        ) from None


def _address_policy(crawl: dict[str, Any], text: str) -> AddressPolicy:
    """Check crawl.allowed_networks and return the address guard's policy."""
    networks = crawl["allowed_networks"]
    for network in networks:
        try:
            if not isinstance(network, str):
                raise TypeError(network)
            ipaddress.ip_network(network, strict=False)
        except (TypeError, ValueError):
            raise ConfigError(
                f"crawl.allowed_networks{_where(text, 'crawl', 'allowed_networks')}: "
                f"not a network such as \"10.20.0.0/16\": {network!r}"
            ) from None
    crawl["allowed_networks"] = tuple(networks)
    return AddressPolicy.from_settings(crawl["allow_private_networks"], networks)


def parse_settings(text: str, path: Path) -> Settings:
    """Validate config text; raise ConfigError with a one-line reason on any problem."""
    try:
        doc = tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"{path}: not valid TOML (line {exc.line}, column {exc.col})") from None
    top_known = set(SPEC) | {"sources"}
    for key in doc:
        if key not in top_known:
            raise ConfigError(
                f"unknown key {key}{_where(text, None, key) or _where(text, key, key)}; "
                f"known: {', '.join(sorted(top_known))}"
            )
    values: dict[str, dict[str, Any]] = {}
    for table, options in SPEC.items():
        raw = doc.get(table, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{table}: expected a table, got {type(raw).__name__}")
        values[table] = _read_table(raw, options, text, table)
    _check_ranges(values, text)
    policy = _address_policy(values["crawl"], text)

    raw_sources = doc.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError("sources: expected an array of tables ([[sources]])")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_sources):
        if not isinstance(raw, dict):
            raise ConfigError(f"sources[{i}]: expected a table")
        v = _read_table(raw, SOURCE_SPEC, text, "sources", i)
        if not is_http_url(v["url"]):
            raise ConfigError(
                f"sources[{i}].url{_where(text, 'sources', 'url', i)}: "
                f"not an http(s) URL: {v['url']!r}"
            )
        refusal = policy.host_refusal(urlsplit(v["url"]).hostname or "")
        if refusal:
            # The crawler would refuse it too; saying so here stops it reaching the config.
            raise ConfigError(
                f"sources[{i}].url{_where(text, 'sources', 'url', i)}: {refusal}; set "
                "crawl.allow_private_networks = true (or crawl.allowed_networks) for an "
                "intranet hub"
            )
        if not v["name"].strip():
            raise ConfigError(f"sources[{i}].name{_where(text, 'sources', 'name', i)}: empty")
        if v["name"] in seen:
            raise ConfigError(
                f"sources[{i}].name{_where(text, 'sources', 'name', i)}: "
                f"duplicate source name {v['name']!r}"
            )
        if v["language"] not in ("", "en", "cy"):
            raise ConfigError(
                f"sources[{i}].language{_where(text, 'sources', 'language', i)}: "
                f"expected 'en', 'cy' or empty, got {v['language']!r}"
            )
        if not all(isinstance(tag, str) and tag.strip() for tag in v["audience"]):
            raise ConfigError(
                f"sources[{i}].audience{_where(text, 'sources', 'audience', i)}: "
                "expected a list of words, e.g. [\"health\", \"police\"]"
            )
        v["audience"] = tuple(tag.strip().lower() for tag in v["audience"])
        seen.add(v["name"])
        sources.append(Source(**v))

    base = path.resolve().parent
    return Settings(
        path=path.resolve(),
        crawl=CrawlSettings(**values["crawl"]),
        storage=StorageSettings(
            store_path=base / values["storage"]["store_path"],
            index_dir=base / values["storage"]["index_dir"],
        ),
        server=ServerSettings(**values["server"]),
        schedule=ScheduleSettings(**values["schedule"]),
        index=IndexSettings(**values["index"]),
        search=SearchSettings(
            synonyms_path=base / values["search"]["synonyms_path"]
            if values["search"]["synonyms_path"].strip() else None,
        ),
        sources=tuple(sources),
    )


def load_settings(path: Path | str = DEFAULT_CONFIG) -> Settings:
    """Read and validate a config file; raise ConfigError (one line) on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (use --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return parse_settings(text, path)


def settings_to_json(settings: Settings) -> str:
    """Serialise validated settings, to hand them to a crawl subprocess unchanged."""
    from dataclasses import asdict

    return json.dumps(asdict(settings), default=str)


def settings_from_json(text: str) -> Settings:
    """The inverse of settings_to_json (no re-validation: the parent already did it)."""
    data = json.loads(text)
    return Settings(
        path=Path(data["path"]),
        crawl=CrawlSettings(**{
            **data["crawl"], "allowed_networks": tuple(data["crawl"].get("allowed_networks", ()))
        }),
        storage=StorageSettings(
            store_path=Path(data["storage"]["store_path"]),
            index_dir=Path(data["storage"]["index_dir"]),
        ),
        server=ServerSettings(**data["server"]),
        schedule=ScheduleSettings(**data["schedule"]),
        index=IndexSettings(**data["index"]),
        search=SearchSettings(
            synonyms_path=Path(p) if (p := data.get("search", {}).get("synonyms_path")) else None
        ),
        sources=tuple(Source(**{**s, "audience": tuple(s.get("audience", ()))})
                      for s in data["sources"]),
    )
