"""What a typed query asks for, engine-neutral: its units (words, runs of words with
equivalents, phrases), each with the alternatives it may match (synonyms from synonyms.toml,
a spelling correction), and the "did you mean" line. Each backend turns the units into its
own query (indexer/search.py for Whoosh, indexer/opensearch_query.py for OpenSearch), so
both search for the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from indexer.query import UserQuery
from indexer.synonyms import Expansion, Synonyms


@dataclass
class Unit:
    """One required part of a query: a word, a run of words with synonyms, or a phrase."""

    words: tuple[str, ...]
    phrase: bool = False
    alternatives: list[tuple[tuple[str, ...], float]] = field(default_factory=list)
    # The alternatives are equivalents from synonyms.toml, not the correction of a misspelling.
    synonyms: bool = False

    def typed(self) -> Unit:
        """The unit as typed: without its synonyms (a correction stands for the typed word)."""
        return replace(self, alternatives=[], synonyms=False) if self.synonyms else self


def units(parsed: UserQuery, synonyms: Synonyms, found: list[Expansion],
           corrections: dict[str, str], function_word: Callable[[str], bool]) -> list[Unit]:
    """The query's units: `found` are the synonym expansions of its words."""
    units: list[Unit] = []
    words = parsed.words
    expansions = {e.start: e for e in found}
    i = 0
    while i < len(words):
        expansion = expansions.get(i)
        if expansion is not None:
            alternatives = [(alt, synonyms.weight) for alt in outermost(expansion.alternatives)]
            units.append(Unit(tuple(words[i : expansion.end]), alternatives=alternatives,
                               synonyms=True))
            i = expansion.end
            continue
        word = words[i]
        i += 1
        if word in corrections:
            # The typed word is in no passage: its correction is what will match.
            units.append(Unit((word,), alternatives=[((corrections[word],), 1.0)]))
        elif not function_word(word):
            units.append(Unit((word,)))
    units += [Unit(tuple(p), phrase=True) for p in parsed.phrases]
    return units


def contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def outermost(alternatives: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    """Drop an alternative that contains another ("human trafficking" given "trafficking"):
    every passage it matches, the shorter one matches too, and the sum would count twice."""
    return [a for a in alternatives
            if not any(b != a and contains(a, b) for b in alternatives)]


def doubling(a: str, b: str) -> bool:
    """True if one word is the other with one letter doubled ("referal", "referral")."""
    short, long = sorted((a, b), key=len)
    if len(long) != len(short) + 1:
        return False
    return any(long[i] == long[i + 1] and long[:i] + long[i + 1:] == short
               for i in range(len(long) - 1))


def suggestion(query: str, corrections: dict[str, str]) -> str | None:
    if not corrections:
        return None
    suggestion = query
    for wrong, right in corrections.items():
        pattern = r"(?<![^\W_])" + re.escape(wrong) + r"(?![^\W_])"
        suggestion = re.sub(pattern, right, suggestion, flags=re.IGNORECASE)
    return " ".join(suggestion.split())
