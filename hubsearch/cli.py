"""The `hubsearch` command line: one subcommand per stage entry point, errors as one line.

Each subcommand only loads the settings and calls a stage's entry point; the work lives in
crawler/, indexer/, search_server.py and schedules/. Exit status: 0 ok, 1 the work failed,
2 a usage or config error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hubsearch.errors import HubsearchError
from hubsearch.settings import DEFAULT_CONFIG, Settings, load_settings


class CommandError(HubsearchError):
    """A failure to report as one line; `status` is the exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.run import run_crawl

    summary = run_crawl(_settings(args), sources=args.source or None)
    print(summary.line())
    return 0 if summary.ok else 1


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.build import build_index

    result = build_index(_settings(args), full=args.full)
    print(result.line())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from hubsearch.report import build_report, format_runs, format_text
    from hubsearch.store import DocumentStore
    from indexer.build import read_status

    settings = _settings(args)
    if not settings.storage.store_path.exists():
        raise CommandError(f"no document store at {settings.storage.store_path}; run a crawl")
    with DocumentStore(settings.storage.store_path) as store:
        if args.runs:
            if args.json:
                print(json.dumps([vars(r) for r in store.runs(args.limit)], indent=2))
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


def cmd_serve(args: argparse.Namespace) -> int:
    from search_server import serve

    settings = _settings(args)
    serve(settings, host=args.host or settings.server.host, port=args.port or settings.server.port)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from indexer.search import PassageSearcher

    settings = _settings(args)
    searcher = PassageSearcher(
        settings.storage.index_dir, synonyms_path=settings.search.synonyms_path
    )
    page = searcher.search(args.query, limit=args.limit, lang=args.lang)
    if args.json:
        print(json.dumps(page.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"{page.total} passages match")
    for n, hit in enumerate(page.results, 1):
        where = " > ".join(hit.heading_path)
        print(f"{n}. {hit.title} — {where}" + (f" (page {hit.page})" if hit.page else ""))
        print(f"   {hit.deep_link}")
        print(f"   {hit.snippet_text}")
    return 0


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


def cmd_schedule(args: argparse.Namespace) -> int:
    from schedules.nightly import run_scheduler

    run_scheduler(_settings(args), run_now=args.run_now)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hubsearch.demo import run_demo

    run_demo(_settings(args), port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=str(DEFAULT_CONFIG),
        metavar="PATH",
        help="config file (default: ./config.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="hubsearch",
        description="Crawl a hub of safeguarding guidance, index it as passages, search it.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str):
        p = sub.add_parser(name, parents=[common], help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("crawl", cmd_crawl, "Fetch the sources and the documents they link to into the store.")
    p.add_argument("--source", action="append", metavar="NAME", help="only this source (repeat)")
    p = add("index", cmd_index, "Bring the index up to date with the store and switch it in.")
    p.add_argument("--full", action="store_true", help="rebuild from scratch, not incrementally")
    p = add("report", cmd_report, "Link health: sources, documents, crawl runs, index gate.")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--runs", action="store_true", help="show the history of crawl runs")
    p.add_argument("--limit", type=int, default=20, help="crawl runs to show (default: 20)")
    p = add("serve", cmd_serve, "Run the search server (JSON API and search page).")
    p.add_argument("--host", help="listen address (default: server.host from the config)")
    p.add_argument("--port", type=int, help="listen port (default: server.port from the config)")
    p = add("search", cmd_search, "Search the current index from the command line.")
    p.add_argument("query", help="words to search for")
    p.add_argument("--limit", type=int, default=5, help="results to show (default: 5)")
    p.add_argument("--lang", choices=["en", "cy"], help="language of the query (default: detect)")
    p.add_argument("--json", action="store_true", help="print the API's JSON instead of text")
    p = add("extract", cmd_extract, "Print the extracted structure of a file or URL as JSON.")
    p.add_argument("target", metavar="PATH_OR_URL", help="a local file or an http(s) URL")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds allowed (default: 60)")
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
    p = add("schedule", cmd_schedule, "Run the nightly crawl-then-index on the config's cron.")
    p.add_argument("--run-now", action="store_true", help="also run once immediately")
    p = add("demo", cmd_demo, "Serve the bundled demo hub, crawl and index it, start the server.")
    p.add_argument("--port", type=int, default=None, help="search server port (default: config)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HubsearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
