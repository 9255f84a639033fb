"""Best bets: the answer maintainers pin for a question staff ask often (Fess's Key Match,
GOV.UK's best bets), shown above the ranked results and marked as recommended.

`best_bets.toml`, beside synonyms.toml and re-read when it changes (indexer/watched_file.py):

    [[bet]]
    queries = ["duty to notify", "dyletswydd i hysbysu"]
    url = "https://www.gov.uk/government/publications/duty-to-notify"
    heading = "Who has the duty"   # optional: the passage under this heading

A query whose words, read as search reads them (case and punctuation aside), are exactly
one of a bet's queries shows that document's passage under `heading` (its first passage if
no heading is given, or none matches after a revision). English and Welsh queries can pin
documents in either language. A bet is skipped when the index does not hold its URL (the
document left the hub) or the staff member's filters leave it out, so a bet never points
at nothing. Everything in the file is bounded: it is read by every search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hubsearch.errors import HubsearchError
from indexer.query import words_of
from indexer.watched_file import WatchedFile, read_toml

MAX_BETS = 2_000
MAX_QUERIES = 50  # per bet
MAX_TEXT_CHARS = 200  # a query or a heading
MAX_URL_CHARS = 2_000
# Shown for one query, at most: a pinned answer is one or two, not a second result list.
MAX_SHOWN = 3


class BestBetsError(HubsearchError):
    """best_bets.toml cannot be read or has the wrong shape."""


@dataclass(frozen=True)
class Bet:
    """A pinned document, and the heading of the passage to show from it."""

    url: str
    heading: str | None = None


@dataclass
class BestBets:
    """Bets by the words of each query they answer."""

    table: dict[tuple[str, ...], list[Bet]] = field(default_factory=dict)

    def for_query(self, query: str) -> list[Bet]:
        """The bets for `query`, in the file's order (at most MAX_SHOWN)."""
        return self.table.get(tuple(words_of(query)), [])[:MAX_SHOWN]


def parse_best_bets(data: dict[str, Any], where: str = "best_bets.toml") -> BestBets:
    """Validate the parsed TOML: a list of `bet` tables, each with `queries` and `url`."""
    unknown = set(data) - {"bet"}
    if unknown:
        raise BestBetsError(f"{where}: unknown key {sorted(unknown)[0]}; known: bet")
    bets = data.get("bet", [])
    if not isinstance(bets, list) or not all(isinstance(b, dict) for b in bets):
        raise BestBetsError(f"{where}: bet must be a list of tables ([[bet]])")
    if len(bets) > MAX_BETS:
        raise BestBetsError(f"{where}: {len(bets)} bets; at most {MAX_BETS}")
    table: dict[tuple[str, ...], list[Bet]] = {}
    for n, raw in enumerate(bets):
        bet = _bet(raw, f"{where}: bet[{n}]")
        for query in raw["queries"]:
            answers = table.setdefault(tuple(words_of(query)), [])
            if bet not in answers:
                answers.append(bet)
    return BestBets(table)


def _bet(raw: dict[str, Any], where: str) -> Bet:
    unknown = set(raw) - {"queries", "url", "heading"}
    if unknown:
        raise BestBetsError(f"{where}: unknown key {sorted(unknown)[0]}; "
                            "known: queries, url, heading")
    queries = raw.get("queries")
    if not (isinstance(queries, list) and 0 < len(queries) <= MAX_QUERIES
            and all(isinstance(q, str) and 0 < len(q) <= MAX_TEXT_CHARS and words_of(q)
                    for q in queries)):
        raise BestBetsError(f"{where}: queries must list 1 to {MAX_QUERIES} queries of words, "
                            f"each at most {MAX_TEXT_CHARS} characters")
    url = raw.get("url")
    if not (isinstance(url, str) and url.startswith(("https://", "http://"))
            and len(url) <= MAX_URL_CHARS and url.isprintable() and " " not in url):
        raise BestBetsError(f"{where}: url must be the http(s) address of an indexed document")
    heading = raw.get("heading")
    if heading is not None and not (isinstance(heading, str) and heading.strip()
                                    and len(heading) <= MAX_TEXT_CHARS):
        raise BestBetsError(f"{where}: heading must be a heading's text, at most "
                            f"{MAX_TEXT_CHARS} characters")
    return Bet(url, heading.strip() if heading else None)


def load_best_bets(path: Path) -> BestBets:
    return parse_best_bets(read_toml(path, BestBetsError), str(path))


class BestBetsFile(WatchedFile[BestBets]):
    """best_bets.toml, re-read when it changes."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(path, load_best_bets, BestBets(), "best bets")


def choose_passage(passages: list[dict[str, Any]], heading: str | None) -> dict[str, Any]:
    """The passage a bet shows from its document's stored passages (in any order): the
    first whose own heading is `heading`, else the first under it (a subsection), else the
    first whose heading contains it; failing all, the document's first passage."""
    ordered = sorted(passages, key=lambda p: p.get("position", 0))
    if heading:
        wanted = heading.casefold()
        for test in (lambda hs: hs[-1:] == [wanted], lambda hs: wanted in hs,
                     lambda hs: any(wanted in h for h in hs)):
            for passage in ordered:
                if test([h.casefold() for h in passage.get("headings") or []]):
                    return passage
    return ordered[0]
