"""Domain synonyms and acronyms from the maintainer-edited synonyms.toml, applied at query time.

The file lists groups of equivalent words or phrases ("NRM" = "National Referral Mechanism",
"modern slavery" = "caethwasiaeth fodern"). A run of query words equal to one member of a
group also matches the other members, with the file's lower `weight`, so the typed words
still rank first. The file is re-read when it changes: maintainers need no restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hubsearch.errors import HubsearchError
from indexer.query import words_of
from indexer.watched_file import WatchedFile, read_toml

DEFAULT_WEIGHT = 0.5
# The longest member, in words, that is looked for in a query.
MAX_SPAN = 8


class SynonymsError(HubsearchError):
    """synonyms.toml cannot be read or has the wrong shape."""


@dataclass(frozen=True)
class Expansion:
    """A run of query words (start, end) and the equivalents that also match it."""

    start: int
    end: int
    alternatives: tuple[tuple[str, ...], ...]


@dataclass
class Synonyms:
    """Equivalents by the words of each member: ("nrm",) -> {("national", ...), ...}."""

    weight: float = DEFAULT_WEIGHT
    table: dict[tuple[str, ...], set[tuple[str, ...]]] = field(default_factory=dict)
    # Each member as the file writes it ("National Referral Mechanism"), to show staff.
    display: dict[tuple[str, ...], str] = field(default_factory=dict)

    @classmethod
    def from_groups(cls, groups: list[list[str]], weight: float = DEFAULT_WEIGHT) -> Synonyms:
        table: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        display: dict[tuple[str, ...], str] = {}
        for group in groups:
            members = {tuple(words_of(term)) for term in group} - {()}
            for member in members:
                table.setdefault(member, set()).update(members - {member})
            for term in group:
                display.setdefault(tuple(words_of(term)), " ".join(term.split()))
        return cls(weight=weight, table=table, display=display)

    def shown(self, member: tuple[str, ...]) -> str:
        """A member as the file writes it."""
        return self.display.get(member, " ".join(member))

    def expansions(self, words: list[str]) -> list[Expansion]:
        """Non-overlapping runs of `words` that have equivalents, longest first from the left."""
        found: list[Expansion] = []
        i = 0
        while i < len(words):
            for end in range(min(len(words), i + MAX_SPAN), i, -1):
                alternatives = self.table.get(tuple(words[i:end]))
                if alternatives:
                    found.append(Expansion(i, end, tuple(sorted(alternatives))))
                    i = end
                    break
            else:
                i += 1
        return found

    def knows(self, word: str) -> bool:
        """True if `word` alone is a member (an acronym need not appear in any document)."""
        return (word,) in self.table


def parse_synonyms(data: dict, where: str = "synonyms.toml") -> Synonyms:
    """Validate the parsed TOML: `weight` (0 < w <= 1) and `groups`, a list of string lists."""
    weight = data.get("weight", DEFAULT_WEIGHT)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1:
        raise SynonymsError(f"{where}: weight must be a number above 0 and at most 1")
    groups = data.get("groups", [])
    if not isinstance(groups, list):
        raise SynonymsError(f"{where}: groups must be a list of lists of words or phrases")
    for n, group in enumerate(groups):
        if not (isinstance(group, list) and len(group) >= 2
                and all(isinstance(t, str) and words_of(t) for t in group)):
            raise SynonymsError(
                f"{where}: groups[{n}] must list two or more words or phrases, got {group!r}"
            )
    unknown = set(data) - {"weight", "groups"}
    if unknown:
        raise SynonymsError(f"{where}: unknown key {sorted(unknown)[0]}; known: weight, groups")
    return Synonyms.from_groups(groups, float(weight))


def load_synonyms(path: Path) -> Synonyms:
    return parse_synonyms(read_toml(path, SynonymsError), str(path))


class SynonymsFile(WatchedFile[Synonyms]):
    """synonyms.toml, re-read when it changes (indexer/watched_file.py)."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(path, load_synonyms, Synonyms(), "synonyms")
