"""Read what staff type into a small, forgiving query structure: words, phrases, exclusions.

The only syntax is "quoted phrases" and a leading `-` to exclude a word or phrase. Everything
else, including Whoosh or Lucene operators (AND, field:, wildcards, ^boosts, brackets), is
read as plain words, so no input can fail to parse. This module is pure: no Whoosh, no index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Words as staff write them: letters and digits, joined by &, an apostrophe, a hyphen, a dot
# or a comma ("A&E", "child's", "i'w", "co-ordinate", "N.R.M", "2,000"), kept whole so the
# analyzer (indexer/analysis.py) can join them as it does at index time.
WORD = re.compile(r"[^\W_]+(?:[&'\u2019.,-][^\W_]+)*")
_PART = re.compile(r'(?P<neg>-?)"(?P<phrase>[^"]*)"|(?P<chunk>\S+)')
# A long paste must not become a query of hundreds of clauses.
MAX_WORDS = 32


def words_of(text: str) -> list[str]:
    """The lower-cased words of `text` (the form synonyms and spelling work on)."""
    return [w.replace("\u2019", "'") for w in WORD.findall(text.casefold())]


@dataclass
class UserQuery:
    """A query as typed: plain words in order, quoted phrases, and what to leave out."""

    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[list[str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.words or self.phrases)


def parse_user_query(text: str) -> UserQuery:
    """Split typed text into words, "phrases" and -exclusions; never raises."""
    parsed = UserQuery()
    count = 0
    for match in _PART.finditer(text):
        if match.group("chunk") is not None:
            chunk = match.group("chunk")
            # A stray quote (an unclosed phrase) is just punctuation.
            negate = chunk.startswith("-") and len(chunk) > 1
            words = words_of(chunk.lstrip("-") if negate else chunk)
            if not words:
                continue
            if negate:
                # "-e-learning" excludes the whole hyphenated word, as one phrase.
                parsed.excluded.append(words)
            else:
                parsed.words.extend(words)
        else:
            words = words_of(match.group("phrase"))
            if not words:
                continue
            if match.group("neg"):
                parsed.excluded.append(words)
            elif len(words) == 1:
                parsed.words.extend(words)
            else:
                parsed.phrases.append(words)
        count += len(words)
        if count >= MAX_WORDS:
            break
    return parsed
