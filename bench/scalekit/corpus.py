"""The scaled corpus and query set of bench/scale.py, made from the real text in ../shared/data.

Base documents (each read once per run; see `load_pool`):
- `cranfield`: the 1,400 Cranfield abstracts (title + text, one section, no heading);
- `articles`: the 181 article bodies a person marked in the article-extraction benchmark
  (paragraphs kept, titled from the URL's last path segment);
- `govuk`: the GOV.UK content items' bodies (and guide parts), wrapped in a GOV.UK-like page
  (bench/crawl.py's `_page`) and read by the crawler's own HTML extractor, so they carry
  real heading paths and anchors; the 5 Welsh items stay Welsh;
- `pdfs`: the real PDFs under 5 MB that the crawler's bounded PDF extraction reads
  (`crawler.extract.extract_isolated`, as a crawl does), with their page numbers.

Replication: the base documents, shuffled once (fixed seed), are laid down in passes; pass
0 is the real text unchanged, and each later pass k stores every document again under a new
URL (`https://example.org/<source>/c<k>/<slug>`) with light perturbation, seeded by URL and
pass so every run builds the same corpus: in each paragraph of more than one sentence, each
sentence is dropped with probability 5%, and 2% of the words are replaced by words drawn
from the pool's own running text (so by corpus frequency). Titles, headings, anchors and
page numbers are kept. The corpus stops at the first document that reaches the passage
count asked for, counted with the production splitter (`indexer.passages.split_document`).
A "1% change" re-perturbs 1% of the documents with another seed (`edited`).

Queries, four kinds, drawn with a fixed seed from the pass-0 documents of the corpus (and
Cranfield's own questions), each distinct across the whole set:
- `keywords`: 2-3 consecutive content words of a sentence (`"pressure distribution"`);
- `acronyms`: upper-case tokens found in two or more documents (`HMRC`) and the acronyms of
  synonyms.toml (`NRM`, `A&E`);
- `natural`: Cranfield's questions cut to their first 10 words;
- `phrases`: 2-3 consecutive words of a sentence in double quotes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from crawler.document import ExtractedDocument, ExtractionError, Section
from indexer.passages import split_document

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SOURCES = ("cranfield", "articles", "govuk", "pdfs")
KINDS = ("keywords", "acronyms", "natural", "phrases")
DROP_SENTENCE = 0.05
REPLACE_WORD = 0.02
MAX_PDF_BYTES = 5_000_000
PDF_TIMEOUT = 10.0
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
_ROMAN = re.compile(r"^[IVXLCDM]+$")
# Words too common to make a keyword query of (Whoosh's English stop list is shorter).
COMMON = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
may me might more most must my no nor not now of off on once only or other our out over own
same she should so some such than that the their them then there these they this those
through to too under until up upon very was we were what when where which while who whom
why will with would you your within without shall used using use given obtained results
shown found show also per one two three however thus therefore well
""".split())


@dataclass(frozen=True)
class BaseDocument:
    key: str  # slug, unique within its source
    source: str  # the config source it is stored under (one per base collection)
    document: ExtractedDocument
    passages: int


def _slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit] or "doc"


def _cranfield() -> list[tuple[str, ExtractedDocument]]:
    from bench.relevance import read_cranfield

    collection = read_cranfield(DATA / "cranfield" / "cran")
    out = []
    for doc_id, (title, text) in collection.documents.items():
        if text.strip():
            doc = ExtractedDocument(title.strip().capitalize() or f"Cranfield {doc_id}", "html",
                                    "en", [Section([], text)])
            out.append((f"{doc_id}-{_slug(title, 40)}", doc))
    return out


def _articles() -> list[tuple[str, ExtractedDocument]]:
    truth = json.loads((DATA / "article-extraction-benchmark" / "ground-truth.json").read_text())
    out = []
    for digest, item in sorted(truth.items()):
        body = item.get("articleBody", "").strip()
        if not body:
            continue
        path = [p for p in item.get("url", "").split("?")[0].split("/") if p]
        title = re.sub(r"[-_]+", " ", re.sub(r"\.\w+$", "", path[-1] if path else "")).strip()
        doc = ExtractedDocument(title.capitalize() or digest[:12], "html", "en",
                                [Section([], body)])
        out.append((f"{digest[:8]}-{_slug(title, 40)}", doc))
    return out


def _govuk() -> list[tuple[str, ExtractedDocument]]:
    from bench.crawl import govuk_pages
    from crawler.extract_html import extract_html

    out = []
    for name, base_path, title, page in govuk_pages():
        try:
            doc = extract_html(page, f"https://www.gov.uk{base_path}")
        except (ExtractionError, ValueError):
            continue
        if doc.sections:
            doc.canonical_url = None
            doc.links = []  # links point at gov.uk, not at the corpus
            out.append((f"{name}-{_slug(title, 40)}", doc))
    return out


def _pdfs() -> list[tuple[str, ExtractedDocument]]:
    from crawler.extract import extract_isolated

    files = [f for f in sorted((DATA / "pdfs").rglob("*.pdf"))
             if 0 < f.stat().st_size <= MAX_PDF_BYTES]

    def read(file: Path) -> tuple[str, ExtractedDocument] | None:
        try:
            doc = extract_isolated(file.read_bytes(), f"https://example.org/{file.name}",
                                   "application/pdf", timeout=PDF_TIMEOUT)
        except ExtractionError:
            return None  # encrypted, corrupt or textless: the robustness bench's business
        digest = hashlib.sha1(str(file.relative_to(DATA)).encode()).hexdigest()[:8]
        return f"{digest}-{_slug(file.stem, 40)}", doc

    with ThreadPoolExecutor(2) as pool:
        return [r for r in pool.map(read, files) if r is not None]


LOADERS = {"cranfield": _cranfield, "articles": _articles, "govuk": _govuk, "pdfs": _pdfs}


def load_pool(sources: tuple[str, ...] = SOURCES) -> list[BaseDocument]:
    """The base documents of the given collections, each with its passage count."""
    pool = []
    for source in sources:
        for key, doc in LOADERS[source]():
            count = len(split_document(doc))
            if count:
                pool.append(BaseDocument(key, source, doc, count))
    return pool


def vocabulary(pool: list[BaseDocument], limit: int = 200_000) -> list[str]:
    """Running words of the pool (repeats kept, so a draw follows corpus frequency)."""
    words: list[str] = []
    for base in pool:
        for section in base.document.sections:
            words.extend(section.text.split())
            if len(words) >= limit:
                return words[:limit]
    return words


def perturb(doc: ExtractedDocument, rng: random.Random, words: list[str]) -> ExtractedDocument:
    """A light edit of `doc` (see the module docstring); `doc` itself is not changed."""
    sections = []
    for section in doc.sections:
        paragraphs = []
        for para in section.text.split("\n\n"):
            sentences = _SENTENCE_END.split(para)
            if len(sentences) > 1:
                kept = [s for s in sentences if rng.random() >= DROP_SENTENCE]
                sentences = kept or sentences[:1]
            tokens = " ".join(sentences).split()
            for i in rng.sample(range(len(tokens)),
                                min(len(tokens), int(len(tokens) * REPLACE_WORD + rng.random()))):
                tokens[i] = rng.choice(words)
            if tokens:
                paragraphs.append(" ".join(tokens))
        sections.append(Section(list(section.heading_path), "\n\n".join(paragraphs) or section.text,
                                section.anchor, section.page))
    return ExtractedDocument(doc.title, doc.doc_type, doc.language, sections)


@dataclass(frozen=True)
class CorpusDocument:
    url: str
    source: str
    base: int  # index into the pool
    copy: int  # replication pass; 0 = the real text

    def make(self, pool: list[BaseDocument], words: list[str],
             edited: bool = False) -> ExtractedDocument:
        doc = pool[self.base].document
        if self.copy:
            doc = perturb(doc, random.Random(f"{self.url}|{self.copy}"), words)
        if edited:
            doc = perturb(doc, random.Random(f"{self.url}|edited"), words)
        return doc


def plan(pool: list[BaseDocument], passages: int, words: list[str],
         seed: int = 0) -> Iterator[tuple[CorpusDocument, ExtractedDocument, int]]:
    """The corpus of about `passages` passages: (where, document, its passage count), in
    storage order, stopping at the first document that reaches the count."""
    order = list(range(len(pool)))
    random.Random(seed).shuffle(order)
    total, copy = 0, 0
    while True:
        for i in order:
            base = pool[i]
            where = CorpusDocument(f"https://example.org/{base.source}/c{copy}/{base.key}",
                                   base.source, i, copy)
            doc = where.make(pool, words)
            count = base.passages if copy == 0 else len(split_document(doc))
            if not count:
                continue
            yield where, doc, count
            total += count
            if total >= passages:
                return
        copy += 1


def _sentences(doc: ExtractedDocument) -> list[str]:
    return [s for section in doc.sections for s in _SENTENCE_END.split(section.text) if s]


def _content(word: str) -> bool:
    return len(word) >= 4 and word.lower() not in COMMON


def synonym_acronyms(path: Path) -> list[str]:
    """Members of synonyms.toml groups written as acronyms (NRM, DtN, A&E)."""
    try:
        groups = tomllib.loads(path.read_text(encoding="utf-8")).get("groups", [])
    except (OSError, ValueError):
        return []
    return [m for group in groups for m in group
            if re.fullmatch(r"[A-Za-z&]{2,8}", m) and sum(c.isupper() for c in m) >= 2]


def make_queries(docs: list[ExtractedDocument], cranfield_questions: list[str],
                 synonyms_path: Path, per_kind: int = 100,
                 seed: int = 1) -> dict[str, list[str]]:
    """Up to `per_kind` distinct queries of each kind, distinct across kinds too."""
    rng = random.Random(seed)
    seen: set[str] = set()
    queries: dict[str, list[str]] = {kind: [] for kind in KINDS}

    def add(kind: str, text: str) -> None:
        text = " ".join(text.split())
        if text and text.lower() not in seen and len(queries[kind]) < per_kind:
            seen.add(text.lower())
            queries[kind].append(text)

    sentences = [s for doc in docs for s in _sentences(doc) if len(s.split()) >= 6]
    tries = 0
    while sentences and tries < per_kind * 50 and (len(queries["keywords"]) < per_kind
                                                   or len(queries["phrases"]) < per_kind):
        tries += 1
        tokens = _WORD.findall(rng.choice(sentences))
        content = [t.lower() for t in tokens if _content(t)]
        if len(content) >= 2:
            n = 3 if rng.random() < 0.4 and len(content) >= 3 else 2
            start = rng.randrange(len(content) - n + 1)
            add("keywords", " ".join(content[start:start + n]))
        if len(tokens) >= 3:
            n = rng.choice((2, 3))
            start = rng.randrange(len(tokens) - n + 1)
            words = tokens[start:start + n]
            if all(len(w) > 1 for w in words) and _content(words[0]) and _content(words[-1]):
                add("phrases", '"' + " ".join(w.lower() for w in words) + '"')

    found: Counter[str] = Counter()
    for doc in docs:
        text = " ".join([doc.title] + [s.text for s in doc.sections])
        found.update(set(m for m in _ACRONYM.findall(text) if not _ROMAN.match(m)))
    for acronym in synonym_acronyms(synonyms_path):
        add("acronyms", acronym)
    for acronym, _ in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])):
        if found[acronym] >= 2:
            add("acronyms", acronym)

    for question in cranfield_questions:
        words = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", question.lower())
        if len(words) >= 10:
            add("natural", " ".join(words[:10]))
    return queries


def cranfield_questions() -> list[str]:
    from bench.relevance import read_cranfield

    return list(read_cranfield(DATA / "cranfield" / "cran").queries.values())
