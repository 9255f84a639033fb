"""Load and validate config.toml once, into one immutable `Settings` object passed down.

Every setting is declared once below as (name, type, default, help, and a number's bounds);
validation, the defaults and the documentation test are all driven from that one table, so a
new setting cannot be half-added. Values that need more than a type and a range (hosts, cron,
source names and URLs, paths) are checked by hubsearch/config_values.py as the file loads.
Nothing else in the code base reads config.toml.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit
from tomlkit.exceptions import KeyAlreadyPresent, ParseError, TOMLKitError

from hubsearch import config_values as checks
from hubsearch.errors import HubsearchError
from hubsearch.network_policy import AddressPolicy

DEFAULT_CONFIG = Path("config.toml")
# The config file of each worker process of `hubsearch serve --workers N` (they start afresh).
CONFIG_ENV = "HUBSEARCH_CONFIG"


class ConfigError(HubsearchError):
    """A config problem, as one line that names the key (and the line where known)."""

    status = 2

    def __init__(self, message: str) -> None:
        # One line whatever a key or value holds: control characters are shown escaped.
        super().__init__(
            "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        )


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    help: str
    # Inclusive bounds of a number. Every number has both: a value that is infinite, NaN or
    # absurd (a 1e20 MB parse limit) passes a type check and then fails every run.
    min: float | None = None
    max: float | None = None

    @property
    def bounds(self) -> str:
        """The allowed range as said in errors, e.g. "from 1 to 65535"."""
        return f"from {_number(self.min)} to {_number(self.max)}"


def _number(x: float | None) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


ACCESS_LOG_FORMATS = ("text", "json")
# The search backends that can be chosen (hubsearch/backends.py builds them); OpenSearch is
# named so a config asking for it is told it is not there yet rather than "unknown".
BACKEND_KINDS = ("whoosh", "opensearch")
# An OpenSearch index prefix: becomes part of index and alias names, which OpenSearch wants
# lower case, without \ / * ? " < > | , # : or spaces, and not starting with - _ +.
INDEX_PREFIX = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
# Where OpenSearch credentials come from: never the config file, which is often committed.
OPENSEARCH_USER_ENV = "HUBSEARCH_OPENSEARCH_USERNAME"
OPENSEARCH_PASSWORD_ENV = "HUBSEARCH_OPENSEARCH_PASSWORD"
URGENT_HELP_EN = ("If someone is in immediate danger, call 999. Live Fear Free helpline, "
                  "free, 24 hours: 0808 80 10 800.")
URGENT_HELP_CY = ("Os oes rhywun mewn perygl uniongyrchol, ffoniwch 999. Llinell gymorth Byw "
                  "Heb Ofn, am ddim, 24 awr: 0808 80 10 800.")
MAX_NOTICE = 300
MAX_TITLE = 200

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
        Option(
            "download_delay", float, 1.0, "Minimum seconds between requests to one host.", 0, 60
        ),
        Option(
            "autothrottle_target_concurrency",
            float,
            1.0,
            "AutoThrottle's target number of parallel requests per host.",
            0.1,
            64,
        ),
        Option(
            "concurrent_requests_per_domain",
            int,
            2,
            "Hard cap on parallel requests per host.",
            1,
            64,
        ),
        Option("download_timeout", int, 30, "Seconds before a request is given up.", 1, 3600),
        Option(
            "max_document_bytes",
            int,
            50 * 1024 * 1024,
            "Larger documents are not downloaded.",
            1,
            1024**3,
        ),
        Option("depth_limit", int, 1, "Link hops followed from a source page.", 0, 10),
        Option(
            "retry_times",
            int,
            2,
            "Retries of a transient failure (5xx, timeout) per crawl.",
            0,
            10,
        ),
        Option(
            "gone_after_failures",
            int,
            2,
            "A document answering 404 this many crawls in a row is removed (410 at once).",
            1,
            100,
        ),
        Option(
            "max_links_per_page",
            int,
            200,
            "Links followed from one source page at most.",
            1,
            10000,
        ),
        Option(
            "parse_timeout", float, 60.0, "Seconds one document may take to parse.", 0.1, 3600
        ),
        Option(
            "parse_memory_mb",
            int,
            2048,
            "Memory one document's parser may use, in MB.",
            64,
            65536,
        ),
        Option(
            "ocr",
            bool,
            True,
            "Read PDF pages that have no text layer (scans) with Tesseract OCR, within "
            "parse_timeout and parse_memory_mb; results mark their text as read by OCR. "
            "false: such a PDF is reported as having no text layer.",
        ),
        Option(
            "ocr_max_pages",
            int,
            50,
            "Scanned pages of one PDF read by OCR at most, in page order (OCR also stops at "
            "parse_timeout, a few seconds a page); pages past either limit stay unsearchable "
            "and the crawl log says how many.",
            1,
            10000,
        ),
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
            0,
            1,
        ),
    ),
    "search": (
        Option(
            "synonyms_path",
            str,
            "synonyms.toml",
            "Synonyms and acronyms file (relative to config); empty for none. Re-read on change."
            " When set, the file must exist.",
        ),
        Option(
            "best_bets_path",
            str,
            "best_bets.toml",
            "Best bets file: documents pinned for common queries, shown first and marked as"
            " recommended (relative to config); empty for none. Re-read on change. When set,"
            " the file must exist.",
        ),
    ),
    "storage": (
        Option("store_path", str, "data/hub.sqlite", "SQLite document store (relative to config)."),
        Option("index_dir", str, "data/index", "Index generations directory (relative to config)."),
    ),
    "backend": (
        Option(
            "kind",
            str,
            "whoosh",
            "The search engine that holds the index and answers searches: \"whoosh\" (embedded, "
            "in storage.index_dir; nothing else to run) or \"opensearch\" (a cluster at "
            "backend.urls, for a corpus one machine cannot serve: docs/scale-out.md).",
        ),
        Option(
            "urls",
            list,
            ["http://127.0.0.1:9200"],
            "OpenSearch: the cluster's nodes, each an http(s) URL; requests go to any of them, "
            "so a node down is passed over. Credentials come from the environment ("
            + OPENSEARCH_USER_ENV + ", " + OPENSEARCH_PASSWORD_ENV + "), never from here.",
        ),
        Option(
            "index_prefix",
            str,
            "hubsearch",
            "OpenSearch: the start of every index and alias name of this hub (lower-case "
            "letters, digits and -), so several hubs can share a cluster.",
        ),
        Option("shards", int, 2, "OpenSearch: primary shards of each index generation.", 1, 64),
        Option(
            "replicas", int, 1,
            "OpenSearch: copies of each shard on other nodes; 1 keeps every shard searchable "
            "with one node down.", 0, 8,
        ),
        Option(
            "verify_certs",
            bool,
            True,
            "OpenSearch over https: check the cluster's certificate (against backend.ca_file, "
            "or the system's authorities).",
        ),
        Option("ca_file", str, "",
               "OpenSearch over https: a PEM file of the authority that signed the cluster's "
               "certificate (relative to config); empty for the system's authorities."),
        Option("timeout_seconds", float, 10.0,
               "OpenSearch: how long one request to the cluster may take.", 0.5, 300),
        Option("keep_generations", int, 2,
               "OpenSearch: index generations kept, the one served included (the one before "
               "it is the way back).", 1, 10),
    ),
    "server": (
        Option("host", str, "127.0.0.1", "Address the search server listens on."),
        Option("port", int, 8000, "Port the search server listens on.", 1, 65535),
        Option(
            "access_log_format",
            str,
            "text",
            "Access log on stderr, one line a request: \"text\" or \"json\" (JSON lines).",
        ),
        Option(
            "root_path",
            str,
            "",
            "The path a reverse proxy serves the search under, e.g. \"/guidance-search\" "
            "(the proxy strips it); links and forms carry it. Empty when served at /.",
        ),
        Option(
            "trusted_proxies",
            list,
            ["127.0.0.1"],
            "Addresses whose X-Forwarded-For and X-Forwarded-Proto headers are believed (the "
            "reverse proxy in front); from anyone else they are ignored.",
        ),
        Option(
            "status_networks",
            list,
            [],
            "Networks allowed to see /status, /api/status and /metrics, e.g. "
            "[\"127.0.0.1/32\", \"10.0.0.0/8\"]; others get 404. Empty: everyone.",
        ),
    ),
    "page": (
        Option(
            "urgent_help_en",
            str,
            URGENT_HELP_EN,
            "A notice at the top of every page, in English: where to get help at once. "
            "Empty for none.",
        ),
        Option(
            "urgent_help_cy",
            str,
            URGENT_HELP_CY,
            "The same notice in Welsh, shown on the Welsh pages. Empty for none.",
        ),
    ),
    "schedule": (
        Option("cron", str, "30 2 * * *", "When the nightly crawl and index run (crontab syntax)."),
        Option("timezone", str, "Europe/London", "Time zone the cron expression is read in."),
        Option(
            "misfire_grace_hours",
            float,
            6.0,
            "A run missed while the scheduler was down still runs if it is at most this late.",
            0,
            7 * 24,
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
    Option("title", str, "", "The source's name as staff read it in filters, results and the "
           "status page, e.g. \"Live Fear Free: slavery\"; empty to show `name`."),
    Option("title_cy", str, "", "The same in Welsh, for the Welsh pages; empty to use `title`."),
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
    title: str = ""
    title_cy: str = ""

    def display_title(self, ui: str = "en") -> str:
        """What staff read for this source on a page in `ui` ("en" or "cy")."""
        if ui == "cy" and self.title_cy:
            return self.title_cy
        return self.title or self.name


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
    ocr: bool = True
    ocr_max_pages: int = 50
    allow_private_networks: bool = False
    allowed_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexSettings:
    max_failed_share: float


@dataclass(frozen=True)
class SearchSettings:
    # None: search without synonyms, without best bets.
    synonyms_path: Path | None = None
    best_bets_path: Path | None = None


@dataclass(frozen=True)
class PageSettings:
    urgent_help_en: str = URGENT_HELP_EN
    urgent_help_cy: str = URGENT_HELP_CY

    def urgent_help(self, ui: str) -> str:
        return self.urgent_help_cy if ui == "cy" else self.urgent_help_en


@dataclass(frozen=True)
class StorageSettings:
    store_path: Path
    index_dir: Path


@dataclass(frozen=True)
class BackendSettings:
    kind: str = "whoosh"
    urls: tuple[str, ...] = ("http://127.0.0.1:9200",)
    index_prefix: str = "hubsearch"
    shards: int = 2
    replicas: int = 1
    verify_certs: bool = True
    ca_file: str = ""
    timeout_seconds: float = 10.0
    keep_generations: int = 2


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    access_log_format: str = "text"
    root_path: str = ""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    status_networks: tuple[str, ...] = ()


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
    page: PageSettings = PageSettings()
    backend: BackendSettings = BackendSettings()


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host name or IP address and no whitespace."""
    if not isinstance(url, str) or re.search(r"\s", url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[zz]/": brackets that hold no IPv6 address
        return False
    return parts.scheme in ("http", "https") and _is_host(parts.hostname or "")


def _is_host(host: str) -> bool:
    """An IP address, or dot-separated labels of letters (any script), digits, "-" and "_":
    what a browser would look up. "%zz.org" or "a..b" is no host, though urlsplit takes it."""
    if not host:
        return False
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return True
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(label and all(c.isalnum() or c in "-_" for c in label) for label in labels)


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
    wanted = expected.__name__ + (f" {opt.bounds}" if opt.min is not None else "")
    if expected in (int, float) and isinstance(value, bool):  # bools are never numbers
        raise ConfigError(f"{label}{where}: expected {wanted}, got {value!r}")
    # TOML ints are acceptable where a float is wanted.
    is_int_for_float = expected is float and isinstance(value, int)
    if not (isinstance(value, expected) or is_int_for_float):
        raise ConfigError(
            f"{label}{where}: expected {wanted}, got {type(value).__name__} {value!r}"
        )
    if opt.min is not None and opt.max is not None:
        finite = isinstance(value, int) or math.isfinite(value)
        if not (finite and opt.min <= value <= opt.max):
            raise ConfigError(f"{label}{where}: must be {opt.bounds}, got {value!r}")
    return float(value) if is_int_for_float else value


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


def _check_values(values: dict[str, dict[str, Any]], text: str) -> None:
    """Values a type and a range cannot judge (numbers were bounded as they were read)."""
    agent = values["crawl"]["user_agent"]
    problem = checks.text_problem(agent, max_length=checks.MAX_USER_AGENT)
    if problem:
        raise ConfigError(f"crawl.user_agent{_where(text, 'crawl', 'user_agent')}: {problem}")
    problem = checks.host_problem(values["server"]["host"])
    if problem:
        raise ConfigError(f"server.host{_where(text, 'server', 'host')}: {problem}")
    if values["server"]["access_log_format"] not in ACCESS_LOG_FORMATS:
        where = _where(text, "server", "access_log_format")
        raise ConfigError(
            f"server.access_log_format{where}: expected 'text' or 'json', "
            f"got {values['server']['access_log_format']!r}"
        )
    _check_server(values["server"], text)
    for key, notice in values["page"].items():
        # Empty turns the notice off; otherwise one printable line.
        problem = notice and checks.text_problem(notice, max_length=MAX_NOTICE)
        if problem:
            raise ConfigError(f"page.{key}{_where(text, 'page', key)}: {problem}")
    tz = values["schedule"]["timezone"]
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(tz)
    except Exception:
        raise ConfigError(
            f"schedule.timezone{_where(text, 'schedule', 'timezone')}: unknown time zone {tz!r}"
        ) from None
    problem = checks.cron_problem(values["schedule"]["cron"], tz)
    if problem:
        raise ConfigError(f"schedule.cron{_where(text, 'schedule', 'cron')}: {problem}")


def _storage_path(
    values: dict[str, dict[str, Any]], text: str, key: str, base: Path, *, want_dir: bool
) -> Path:
    raw = values["storage"][key]
    problem = "empty" if not raw.strip() else checks.path_problem(base / raw, want_dir=want_dir)
    if problem:
        raise ConfigError(f"storage.{key}{_where(text, 'storage', key)}: {problem}")
    return base / raw


def _search_file(
    values: dict[str, dict[str, Any]], text: str, base: Path, search: Any, key: str
) -> Path | None:
    raw = values["search"][key]
    if not raw.strip():
        return None
    # The default names a file that may not exist (none then); a path someone wrote down
    # that is missing is a mistake, and would silently search without it.
    problem = checks.existing_file_problem(base / raw) if key in search else None
    if problem:
        raise ConfigError(f"search.{key}{_where(text, 'search', key)}: {problem}")
    return base / raw


def _duplicate_key_error(text: str, path: Path, exc: KeyAlreadyPresent) -> ConfigError:
    """Name the duplicated key and its line (tomlkit says neither for a repeated key)."""
    lines = text.splitlines(keepends=True)

    def repeats_within(n: int) -> bool:
        try:
            tomlkit.parse("".join(lines[:n]))
        except KeyAlreadyPresent:
            return True
        except (TOMLKitError, ValueError):
            return False
        return False

    # The shortest prefix that already repeats the key ends on the repeat.
    lo, hi = 1, len(lines)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if repeats_within(mid) else (mid + 1, hi)
    match = re.match(r"\s*([^=]+?)\s*=", lines[lo - 1]) if lines else None
    key = match.group(1) if match else re.sub(r"^Key (.*) already exists\.$", r"\1", str(exc))
    label, counts = key, {}
    for line in lines[: lo - 1]:
        header = re.match(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
        if header and header.group(1) == "[[":  # [[sources]]: say which one, as elsewhere
            counts[header.group(2)] = counts.get(header.group(2), -1) + 1
            label = f"{header.group(2)}[{counts[header.group(2)]}].{key}"
        elif header:
            label = f"{header.group(2)}.{key}"
    return ConfigError(f"{path}: duplicate key {label} (line {lo})")


def _check_backend(backend: dict[str, Any], text: str, base: Path) -> None:
    kind = backend["kind"]
    if kind not in BACKEND_KINDS:
        raise ConfigError(f"backend.kind{_where(text, 'backend', 'kind')}: expected one of "
                          f"{', '.join(repr(k) for k in BACKEND_KINDS)}, got {kind!r}")
    urls = backend["urls"]
    if not urls:
        raise ConfigError(f"backend.urls{_where(text, 'backend', 'urls')}: name at least one "
                          "OpenSearch node, such as \"http://127.0.0.1:9200\"")
    for url in urls:
        # A URL with user:password@ would put a secret in the config and in every log line.
        if not is_http_url(url) or "@" in urlsplit(url).netloc:
            shown = "a URL with credentials in it" if "@" in str(url) else repr(url)
            raise ConfigError(
                f"backend.urls{_where(text, 'backend', 'urls')}: not an http(s) URL of a node "
                f"(credentials go in {OPENSEARCH_USER_ENV}/{OPENSEARCH_PASSWORD_ENV}): "
                f"{shown}")
    backend["urls"] = tuple(urls)
    if not INDEX_PREFIX.fullmatch(backend["index_prefix"]):
        raise ConfigError(
            f"backend.index_prefix{_where(text, 'backend', 'index_prefix')}: expected lower-case "
            f"letters, digits and - (40 at most, not starting with -), got "
            f"{backend['index_prefix']!r}")
    ca = backend["ca_file"]
    if ca:
        path = base / Path(ca).expanduser()  # relative to the config, as other files are
        backend["ca_file"] = str(path)
        if not path.is_file():
            raise ConfigError(
                f"backend.ca_file{_where(text, 'backend', 'ca_file')}: no such file: {ca!r}")


ROOT_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)+")


def _check_server(server: dict[str, Any], text: str) -> None:
    root = server["root_path"]
    if root and (not ROOT_PATH.fullmatch(root)
                 or any(part in (".", "..") for part in root.split("/"))):
        raise ConfigError(
            f"server.root_path{_where(text, 'server', 'root_path')}: expected a path such as "
            f"\"/guidance-search\" (from /, no trailing /, no . or .. parts; letters, digits, "
            f". _ ~ -), got {root!r}")
    for key in ("trusted_proxies", "status_networks"):
        server[key] = _networks(server, text, "server", key, "an address or network",
                                "10.0.0.0/8")


def _networks(values: dict[str, Any], text: str, table: str, key: str, kind: str,
              example: str) -> tuple[str, ...]:
    """A list of IP networks (or addresses) `table.key`, checked; one line naming the key
    and the first entry that is not one."""
    for network in values[key]:
        try:
            if not isinstance(network, str):
                raise TypeError(network)
            ipaddress.ip_network(network, strict=False)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{table}.{key}{_where(text, table, key)}: not {kind} such as "
                f"\"{example}\": {network!r}") from None
    return tuple(values[key])


def _address_policy(crawl: dict[str, Any], text: str) -> AddressPolicy:
    """Check crawl.allowed_networks and return the address guard's policy."""
    crawl["allowed_networks"] = _networks(crawl, text, "crawl", "allowed_networks",
                                          "a network", "10.20.0.0/16")
    return AddressPolicy.from_settings(crawl["allow_private_networks"],
                                       crawl["allowed_networks"])


def parse_settings(text: str, path: Path) -> Settings:
    """Validate config text; raise ConfigError with a one-line reason on any problem."""
    try:
        doc = tomlkit.parse(text)
    except KeyAlreadyPresent as exc:
        raise _duplicate_key_error(text, path, exc) from None
    except ParseError as exc:
        reason = re.sub(r" at line \d+ col \d+$", "", str(exc))
        raise ConfigError(
            f"{path}: not valid TOML (line {exc.line}, column {exc.col}): {reason}"
        ) from None
    except (TOMLKitError, ValueError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
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
    _check_values(values, text)
    policy = _address_policy(values["crawl"], text)

    raw_sources = doc.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError("sources: expected an array of tables ([[sources]])")
    sources: list[Source] = []
    seen: set[str] = set()
    seen_urls: dict[str, str] = {}
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
        problem = checks.url_port_problem(v["url"])
        if problem:
            raise ConfigError(f"sources[{i}].url{_where(text, 'sources', 'url', i)}: {problem}")
        problem = checks.text_problem(v["name"], max_length=checks.MAX_SOURCE_NAME)
        if problem:
            raise ConfigError(f"sources[{i}].name{_where(text, 'sources', 'name', i)}: {problem}")
        try:
            identity = checks.source_identity(v["url"])
        except ValueError as exc:
            raise ConfigError(
                f"sources[{i}].url{_where(text, 'sources', 'url', i)}: {exc}: {v['url']!r}"
            ) from None
        if identity in seen_urls:
            raise ConfigError(
                f"sources[{i}].url{_where(text, 'sources', 'url', i)}: the same page as source "
                f"{seen_urls[identity]!r} ({v['url']!r})"
            )
        seen_urls[identity] = v["name"]
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
        for key in ("title", "title_cy"):
            problem = v[key] and checks.text_problem(v[key], max_length=MAX_TITLE)
            if problem:
                raise ConfigError(f"sources[{i}].{key}{_where(text, 'sources', key, i)}: "
                                  f"{problem}")
        seen.add(v["name"])
        sources.append(Source(**v))

    base = path.resolve().parent
    _check_backend(values["backend"], text, base)
    store_path = _storage_path(values, text, "store_path", base, want_dir=False)
    index_dir = _storage_path(values, text, "index_dir", base, want_dir=True)
    search = doc.get("search", {})
    synonyms_path = _search_file(values, text, base, search, "synonyms_path")
    best_bets_path = _search_file(values, text, base, search, "best_bets_path")
    return Settings(
        path=path.resolve(),
        crawl=CrawlSettings(**values["crawl"]),
        storage=StorageSettings(store_path=store_path, index_dir=index_dir),
        server=ServerSettings(**values["server"]),
        schedule=ScheduleSettings(**values["schedule"]),
        index=IndexSettings(**values["index"]),
        search=SearchSettings(synonyms_path=synonyms_path, best_bets_path=best_bets_path),
        sources=tuple(sources),
        page=PageSettings(**values["page"]),
        backend=BackendSettings(**values["backend"]),
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
        server=ServerSettings(**{
            **data["server"],
            **{k: tuple(data["server"][k]) for k in ("trusted_proxies", "status_networks")
               if k in data["server"]}}),
        schedule=ScheduleSettings(**data["schedule"]),
        index=IndexSettings(**data["index"]),
        search=SearchSettings(**{
            key: Path(p) if (p := data.get("search", {}).get(key)) else None
            for key in ("synonyms_path", "best_bets_path")}),
        sources=tuple(Source(**{**s, "audience": tuple(s.get("audience", ()))})
                      for s in data["sources"]),
        page=PageSettings(**data.get("page", {})),
        backend=BackendSettings(**{
            **data.get("backend", {}),
            **({"urls": tuple(data["backend"]["urls"])} if "urls" in data.get("backend", {})
               else {})}),
    )
