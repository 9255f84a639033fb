"""The `hubsearch` command line: one subcommand per stage entry point, errors as one line.

Each subcommand only loads the settings and calls a stage's entry point; the work lives in
crawler/, the search backend (hubsearch/backends.py: indexer/ for Whoosh), search_server.py
and schedules/. Exit status: 0 ok, 1 the work failed, 2 a usage or config error.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from hubsearch.config_values import host_problem
from hubsearch.errors import HubsearchError
from hubsearch.settings import DEFAULT_CONFIG, Settings, load_settings


class CommandError(HubsearchError):
    """A failure to report as one line; `status` is the exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line and exit status 2 like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {_one_line(message)} (see {self.prog} --help)\n")


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a one-line usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= 3600):
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600, got {text}")
    return value


def _host(text: str) -> str:
    problem = host_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def _search_limit(text: str) -> int:
    from hubsearch.search_results import MAX_LIMIT  # the API's cap

    return _whole_number(1, MAX_LIMIT)(text)


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _os_error_line(exc: OSError) -> str:
    """"No space left on device: /data/hub.sqlite": the reason and the file(s) it concerns."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    names = [os.fsdecode(n) if isinstance(n, bytes) else str(n)
             for n in (exc.filename, exc.filename2) if n is not None]
    return f"{reason}: {' -> '.join(names)}" if names else reason


def _settle_stdout() -> None:
    """Let Python's exit-time flush of stdout pass, if stdout is full or its reader gone."""
    try:
        sys.stdout.flush()
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _database_error_line(exc: BaseException) -> str | None:
    """One line for an SQLite error, raw or wrapped by SQLAlchemy (the schedule's job store)."""
    if isinstance(exc, sqlite3.Error):
        return f"database: {exc}"
    orig = getattr(exc, "orig", None)
    if type(exc).__module__.startswith("sqlalchemy") and isinstance(orig, sqlite3.Error):
        return f"database: {orig}"
    return None


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.run import run_crawl

    summary = run_crawl(_settings(args), sources=args.source or None, wait=args.wait)
    print(summary.line())
    return 0 if summary.ok else 1


LIVE_PROGRESS_SECONDS = 0.5  # between redraws of a progress line on a terminal


def _log_to_stderr(name: str) -> None:
    """INFO lines of logger `name` (progress of long work) on stderr, timestamped, for a
    terminal, cron's mail or systemd's journal; stdout keeps the command's result."""
    from hubsearch.stderr_handler import Stderr

    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    if not any(isinstance(h, Stderr) for h in logger.handlers):
        handler = Stderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
        logger.addHandler(handler)


class _LiveProgress(logging.StreamHandler):
    """On a terminal: progress records (extra={"progress": True}) redraw one line in place;
    any other record first clears it and is written as usual."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("%(message)s"))
        self.drawn = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if getattr(record, "progress", False):
                self.stream.write(f"\r{text}\x1b[K")
                self.drawn = True
            else:
                self.stream.write(("\r\x1b[K" if self.drawn else "") + text + "\n")
                self.drawn = False
            self.flush()
        except Exception:  # noqa: BLE001 - logging's own contract: never raise from emit
            self.handleError(record)

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.flush()
            self.drawn = False


def cmd_index(args: argparse.Namespace) -> int:
    from hubsearch.backends import open_backend

    backend = open_backend(_settings(args))
    live = None
    if sys.stderr.isatty():
        logger = logging.getLogger("indexer.build")
        logger.setLevel(logging.INFO)
        live = _LiveProgress()
        logger.addHandler(live)
    else:
        _log_to_stderr("indexer.build")
    try:
        result = backend.build(full=args.full, wait=args.wait,
                               progress_seconds=LIVE_PROGRESS_SECONDS if live else None)
    finally:
        if live is not None:
            live.clear()
    print(result.line())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from hubsearch.report import build_report, format_runs, format_text, runs
    from hubsearch.status_snapshot import read_status
    from hubsearch.store import DocumentStore

    settings = _settings(args)
    if not settings.storage.store_path.exists():
        raise CommandError(f"no document store at {settings.storage.store_path}; run a crawl")
    with DocumentStore(settings.storage.store_path) as store:
        if args.runs:
            if args.json:
                print(json.dumps([vars(r) for r in runs(store, args.limit)], indent=2))
            else:
                print(format_runs(store, args.limit))
            return 0
        report = build_report(settings, store)
    index_status = (read_status(settings.storage.index_dir) or {}).get("index")
    if args.json:
        print(json.dumps({"index": index_status, **report}, ensure_ascii=False, indent=2))
    else:
        print(format_text(report, index_status))
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from hubsearch.settings_reference import as_markdown, as_text

    print(as_markdown() if args.markdown else as_text(), end="")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from hubsearch.store_backup import backup_store

    settings = _settings(args)
    print(backup_store(settings.storage.store_path, Path(args.target)).line())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    host, port = args.host or settings.server.host, args.port or settings.server.port
    if args.workers > 1:
        from hubsearch_web.serving import run_workers

        run_workers(settings.path, host, port, args.workers,
                    server=settings.server)
        return 0
    from search_server import serve

    serve(settings, host=host, port=port)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from hubsearch.backends import open_backend

    searcher = open_backend(_settings(args)).searcher()
    page = searcher.search(args.query, limit=args.limit, lang=args.lang, sort=args.sort)
    if args.json:
        print(json.dumps(page.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(_count_line(page.total_passages, page.total))
    if page.suggestion:
        print(f"did you mean: {page.suggestion}")
    if page.also_searched and page.total_passages:
        print(f"also searched: {', '.join(page.also_searched)}")
    if page.matched == "any" and page.total:
        print("no passage has all of your words: showing passages with any of them")
    for hit in page.best_bets:
        _print_hit("recommended:", hit)
    for n, hit in enumerate(page.results, 1):
        _print_hit(f"{n}.", hit)
    return 0


def _print_hit(label: str, hit: Any) -> None:
    where = " > ".join(hit.heading_path)
    print(f"{label} {hit.title} — {where}" + (f" (page {hit.page})" if hit.page else "")
          + (f" (updated {hit.updated})" if hit.updated else ""))
    print(f"   {hit.deep_link}")
    print(f"   {hit.snippet_text}")


def _count_line(passages: int, documents: int) -> str:
    """"19 passages in 7 documents", as the search page and the API count them."""
    def plural(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 else f"{n} {word}s"

    if not passages:
        return "no passages found"
    return f"{plural(passages, 'passage')} in {plural(documents, 'document')}"


def cmd_extract(args: argparse.Namespace) -> int:
    from crawler.extract import extract_target

    result = extract_target(args.target, timeout=args.timeout)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 1 if "error" in result else 0


def cmd_sources(args: argparse.Namespace) -> int:
    from hubsearch import config_edit

    if args.action == "list" or args.action is None:
        settings = _settings(args)
        for src in settings.sources:
            follow = "follows links" if src.follow_links else "page only"
            print(f"{src.name}\t{src.url}\t{src.language or 'auto'}\t{follow}")
        return 0
    if args.action == "add":
        config_edit.add_source(
            Path(args.config),
            name=args.name,
            url=args.url,
            follow_links=not args.no_follow,
            language=args.language or "",
        )
        print(f"added source {args.name!r}")
        return 0
    config_edit.remove_source(Path(args.config), name=args.name)
    print(f"removed source {args.name!r}")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """The password to set: one line of stdin with --password-stdin, else asked twice."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password on: pipe it with "
                           "--password-stdin")
    password = getpass.getpass(f"new password for {args.name}: ")
    if getpass.getpass("again: ") != password:
        raise CommandError("the two passwords differ; nothing changed")
    return password


def cmd_users(args: argparse.Namespace) -> int:
    from hubsearch import accounts
    from hubsearch.store import DocumentStore

    settings = _settings(args)
    action = args.action or "list"
    if action != "list":
        accounts.check_name(args.name)
    password = _new_password(args) if action in ("add", "reset") else ""
    with DocumentStore(settings.storage.store_path) as store:
        if action == "list":
            for row in accounts.names(store):
                print(f"{row['name']}\tadded {row['created_at']}\tpassword set "
                      f"{row['changed_at']}")
        elif action == "add":
            accounts.add(store, args.name, password)
            print(f"added maintainer {args.name!r}: they can sign in at /admin")
        elif action == "reset":
            accounts.reset(store, args.name, password)
            print(f"new password for {args.name!r}; their sessions are ended")
        else:
            accounts.remove(store, args.name)
            print(f"removed maintainer {args.name!r}; their sessions are ended")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from crawler.preview import preview_source
    from hubsearch.settings import ConfigError, is_http_url

    settings = _settings(args)
    if not is_http_url(args.url):
        raise ConfigError(f"not an http(s) URL with a host: {args.url[:200]!r}")
    result = preview_source(settings, args.url, language=args.language or "")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif "error" in result:
        print(f"{args.url}: not fetched: {result['error']}")
    else:
        print(f"{result['title'] or args.url}: {len(result['follow'])} documents to fetch, "
              f"{len(result['skip'])} links skipped")
        for item in result["follow"]:
            held = f" (stored already, {item['already']})" if item.get("already") else ""
            title = f" ({item['title']})" if item.get("title") else ""
            print(f"  fetch  {item['type']:<12} {item['url']}{title}{held}")
        for item in result["skip"]:
            print(f"  skip   {item['url']}: {item['why']}")
    return 1 if "error" in result else 0


def cmd_refresh(args: argparse.Namespace) -> int:
    from schedules.nightly import crawl_then_index

    settings = _settings(args)  # a config error is one line before anything starts
    _log_to_stderr("schedules.nightly")
    return 0 if crawl_then_index(str(settings.path), args.source, label="refresh") else 1


def cmd_schedule(args: argparse.Namespace) -> int:
    from schedules.nightly import nightly_job, run_scheduler

    settings = _settings(args)
    if args.once:
        # For cron or a systemd timer: one run now, its outcome as the exit status.
        _log_to_stderr("schedules.nightly")
        return 0 if nightly_job(str(settings.path)) else 1
    run_scheduler(settings, run_now=args.run_now)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hubsearch.demo import run_demo
    from hubsearch.demo_site import DEMO_CONFIG

    settings = load_settings(args.config or DEMO_CONFIG)
    run_demo(settings, port=args.port, keep=Path(args.keep) if args.keep else None)
    return 0


def _version() -> str:
    """The installed distribution's version (the wheel's, or the editable install's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hubsearch")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """--version, looked up only when asked for: importlib.metadata costs ~30 ms, paid by
    every command (a nightly incremental build of a small hub takes well under a second)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(f"hubsearch {_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG),
        metavar="PATH",
        help="config file (default: ./config.toml)",
    )
    parser = _Parser(
        prog="hubsearch",
        description="Crawl a hub of safeguarding guidance, index it as passages, search it.",
    )
    parser.add_argument("--version", action=_VersionAction,
                        help="show the installed version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str,
            parents: Sequence[argparse.ArgumentParser] = (common,)):
        p = sub.add_parser(name, parents=list(parents), help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("crawl", cmd_crawl, "Fetch the sources and the documents they link to into the store.")
    p.add_argument("--source", action="append", metavar="NAME", help="only this source (repeat)")
    p.add_argument("--wait", action="store_true",
                   help="if another crawl of this store is running, wait for it (default: refuse)")
    p = add("index", cmd_index, "Bring the index up to date with the store and switch it in.")
    p.add_argument("--full", action="store_true", help="rebuild from scratch, not incrementally")
    p.add_argument("--wait", action="store_true",
                   help="if another index build is running, wait for it (default: refuse)")
    p = add("report", cmd_report, "Link health: sources, documents, crawl runs, index gate.")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--runs", action="store_true", help="show the history of crawl runs")
    p.add_argument(
        "--limit",
        type=_whole_number(1, 10_000),
        default=20,
        help="crawl runs to show (default: 20)",
    )
    p = add("settings", cmd_settings,
            "Every config.toml key with its type, default and meaning.")
    p.add_argument("--markdown", action="store_true",
                   help="as docs/configuration.md (Markdown tables)")
    p = add("backup", cmd_backup,
            "Copy the document store, consistently, while crawls and searches go on.")
    p.add_argument("target", metavar="PATH",
                   help="a new file, or a directory to put a dated copy in")
    p = add("serve", cmd_serve, "Run the search server (JSON API and search page).")
    p.add_argument(
        "--host", type=_host, help="listen address (default: server.host from the config)"
    )
    p.add_argument(
        "--port",
        type=_whole_number(1, 65535),
        help="listen port, 1-65535 (default: server.port from the config)",
    )
    p.add_argument(
        "--workers",
        type=_whole_number(1, 64),
        default=1,
        help="server processes sharing the port and the index's page cache (default: 1)",
    )
    p = add("search", cmd_search, "Search the current index from the command line.")
    p.add_argument("query", help="words to search for")
    p.add_argument("--limit", type=_search_limit, default=5, help="results to show (default: 5)")
    p.add_argument("--lang", choices=["en", "cy"], help="language of the query (default: detect)")
    p.add_argument("--sort", choices=["relevance", "updated"], default="relevance",
                   help="order: relevance, or most recently updated first (default: relevance)")
    p.add_argument("--json", action="store_true", help="print the API's JSON instead of text")
    p = add("extract", cmd_extract, "Print the extracted structure of a file or URL as JSON.")
    p.add_argument("target", metavar="PATH_OR_URL", help="a local file or an http(s) URL")
    p.add_argument("--timeout", type=_seconds, default=60.0, help="seconds allowed (default: 60)")
    p = add("sources", cmd_sources, "List, add or remove source URLs in the config file.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", parents=[common], help="list the configured sources")
    a = actions.add_parser("add", parents=[common], help="add a source URL")
    a.add_argument("url", help="the hub page's http(s) URL")
    a.add_argument("--name", required=True, help="short unique name for the source")
    a.add_argument("--language", choices=["en", "cy"], help="language of the page")
    a.add_argument("--no-follow", action="store_true", help="do not fetch linked documents")
    r = actions.add_parser("remove", parents=[common], help="remove a source by name")
    r.add_argument("name", help="the source's name")
    p = add("users", cmd_users,
            "List, add, remove maintainers who sign in to /admin, or reset a password.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", parents=[common], help="list the maintainers")
    for action, text in (("add", "add a maintainer (asks for the password)"),
                         ("reset", "set a new password (ends their sessions)"),
                         ("remove", "remove a maintainer (ends their sessions)")):
        a = actions.add_parser(action, parents=[common], help=text, description=text)
        a.add_argument("name", help="the maintainer's name: 1-64 of a-z, 0-9, . _ -")
        if action != "remove":
            a.add_argument("--password-stdin", action="store_true",
                           help="read the password from one line of standard input "
                                "(default: ask twice on the terminal)")
    p = add("preview", cmd_preview,
            "Fetch a proposed source's page once (not stored) and list what it would add.")
    p.add_argument("url", help="the hub page's http(s) URL")
    p.add_argument("--language", choices=["en", "cy"], help="language of the page")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p = add("refresh", cmd_refresh,
            "Crawl now, then index, as the nightly run does (exit 1 if the run failed).")
    p.add_argument("--source", action="append", metavar="NAME",
                   help="only this source (repeat; default: all)")
    p = add("schedule", cmd_schedule, "Run the nightly crawl-then-index on the config's cron.")
    runs = p.add_mutually_exclusive_group()
    runs.add_argument("--run-now", action="store_true", help="also run once immediately")
    runs.add_argument("--once", action="store_true",
                      help="run once now and exit, 1 if the run failed (for cron or a "
                           "systemd timer)")
    p = add("demo", cmd_demo, "Serve the bundled demo hub, crawl and index it, start the server.",
            parents=())
    # The demo's own config unless one is named: ./config.toml lists the real sources. An
    # option of its own: set_defaults on the shared one would change every command's default.
    p.add_argument("--config", default=None, metavar="PATH",
                   help="config file (default: the bundled demo hub's)")
    p.add_argument("--keep", metavar="DIR",
                   help="leave the store, index and a config naming them in DIR (new or "
                        "empty), to try report, search and serve on (default: a temporary "
                        "directory, removed)")
    p.add_argument(
        "--port",
        type=_whole_number(0, 65535),
        default=None,
        help="search server port, 0 for any free one (default: config)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
        # Output still buffered is part of the work: a full disk under `> report.txt` is an
        # error of this run, said here rather than as Python's exit-time complaint.
        sys.stdout.flush()
        return status
    except HubsearchError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _settle_stdout()  # `hubsearch report | head`: the reader left; nothing to say
        return 1
    except OSError as exc:
        # Disk full, permission denied, a missing file, a port in use: what the system said.
        _settle_stdout()
        print(f"error: {_one_line(_os_error_line(exc))}", file=sys.stderr)
        return 1
    except Exception as exc:
        line = _database_error_line(exc)
        if line is None:
            raise  # a bug: its traceback is what someone needs to fix it
        print(f"error: {_one_line(line)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
