"""Main-text extraction quality of `crawler.extract_html` on the article-extraction benchmark.

Run from the repo root: `.venv/bin/python bench/extraction.py [--data DIR] [--worst N]`.

Reads `../shared/data/article-extraction-benchmark` in place (181 gzipped real pages and the
article body a person marked as main content) and scores OUR production extraction with the
benchmark's own metric, re-implemented from its README:

- tokens are `re.findall(r"\\w+", text)` (case kept); shingles are word 4-grams counted as a
  multiset (a text shorter than 4 tokens is one shorter shingle);
- per document, tp/fp/fn are the multiset overlap, normalised to sum to 1 so long pages weigh
  no more than short ones;
- precision is the mean over documents with tp+fp > 0, recall the mean over documents with
  tp+fn > 0 (both 1.0 when fp == fn == 0); F1 = 2PR/(P+R) of those means, not a mean of F1s.

What text of ours is compared: what we index, laid out as the page shows it. For each section,
the headings that open it (the part of its `heading_path` not shared with the section before)
and then its text. The document title is left out: the benchmark's `articleBody` excludes the
headline, while sub-headings inside the article are part of it. A second row, "ours + title",
scores the same text with the title in front, to show what the headline costs.

The peers whose outputs the benchmark ships (trafilatura, readability, justext, html-text) are
scored with the same scorer in the same run; goose3 ships no outputs, so its published figure is
quoted. The last line is the `RESULT ...` summary described in shared/notes/bench-conventions.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.document import ExtractedDocument  # noqa: E402 - needs the path above
from crawler.extract_html import extract_html  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "article-extraction-benchmark"
# Published F1 / precision / recall from the benchmark README at the pinned commit.
PUBLISHED = {
    "trafilatura": (0.958, 0.938, 0.978),
    "readability": (0.922, 0.913, 0.931),
    "goose3": (0.896, 0.940, 0.856),
    "justext": (0.804, 0.858, 0.756),
    "html-text": (0.665, 0.500, 0.994),
}
# RESULT keys must be identifiers; html-text is the "all text kept" baseline.
RESULT_KEY = {"html-text": "all_text"}
_TOKEN = re.compile(r"\w+")
Scores = tuple[float, float, float]  # normalised tp, fp, fn of one document


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Word n-gram multiset as upstream counts it (one short shingle for a short text)."""
    tokens = _TOKEN.findall(text or "")
    grams = (tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))
    return Counter(g for g in grams if g)


def match(true: str, pred: str) -> Scores:
    """tp, fp, fn of one document over 4-gram shingles, normalised to sum to 1."""
    t, p = shingles(true), shingles(pred)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (tp, fp, fn)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def summarise(per_doc: Iterable[Scores]) -> tuple[float, float, float]:
    """(f1, precision, recall) of a run, averaged over documents as upstream does."""
    docs = list(per_doc)
    precision = statistics.mean(_precision(*d) for d in docs if d[0] + d[1] > 0)
    recall = statistics.mean(_recall(*d) for d in docs if d[0] + d[2] > 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, precision, recall


def document_f1(scores: Scores) -> float:
    p, r = _precision(*scores), _recall(*scores)
    return 2 * p * r / (p + r) if p + r else 0.0


def body_text(doc: ExtractedDocument, with_title: bool = False) -> str:
    """Our indexed text in page order: each section's new headings, then its text."""
    parts: list[str] = [doc.title] if with_title else []
    previous: list[str] = [doc.title]  # the title is the headline, not part of the body
    for section in doc.sections:
        path = section.heading_path
        shared = 0
        while shared < min(len(path), len(previous)) and path[shared] == previous[shared]:
            shared += 1
        parts.extend(path[shared:])
        parts.append(section.text)
        previous = path
    return "\n\n".join(parts)


def load_outputs(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    data = data.get("output", data) if isinstance(data, dict) else data
    return {key: (value or {}).get("articleBody", "") or "" for key, value in data.items()}


def _ours(data: Path, truth: dict) -> tuple[dict[str, Scores], dict[str, Scores], float]:
    """Per-document scores of our extraction, without and with the title, and how long it
    took."""
    started = time.perf_counter()
    ours: dict[str, Scores] = {}
    ours_title: dict[str, Scores] = {}
    for key in sorted(truth):
        html = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes())
        doc = extract_html(html, truth[key].get("url") or f"https://bench.invalid/{key}")
        gold = truth[key].get("articleBody", "")
        ours[key] = match(gold, body_text(doc))
        ours_title[key] = match(gold, body_text(doc, with_title=True))
    return ours, ours_title, time.perf_counter() - started


def heading_recall(data: Path, truth: dict) -> float:
    """Share of the truth's headings that our sections carry as a heading, in any path."""
    found = total = 0
    for key in sorted(truth):
        wanted = [_words(h) for h in truth[key].get("headings") or []]
        if not wanted:
            continue
        html = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes())
        doc = extract_html(html, truth[key]["url"])
        ours = {_words(h) for section in doc.sections for h in section.heading_path}
        ours |= {_words(line) for section in doc.sections for line in section.text.split("\n")}
        found += sum(1 for h in wanted if h in ours)
        total += len(wanted)
    return found / total if total else 1.0


def _words(text: str) -> str:
    return " ".join(_TOKEN.findall(text.casefold()))


def _live_peers(data: Path, truth: dict) -> dict[str, tuple[float, float, float]]:
    """Peers run here on a set that ships no outputs: trafilatura's defaults (the library
    our extraction asks) and all the page's visible text (the floor)."""
    import trafilatura
    from bs4 import BeautifulSoup

    outputs: dict[str, dict[str, str]] = {"trafilatura": {}, "html-text": {}}
    for key in sorted(truth):
        html = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes()).decode()
        outputs["trafilatura"][key] = trafilatura.extract(html) or ""
        soup = BeautifulSoup(html, "lxml")
        for hidden in soup(["script", "style", "head"]):
            hidden.decompose()
        outputs["html-text"][key] = soup.get_text("\n")
    return {peer: summarise(match(truth[k].get("articleBody", ""), out.get(k, ""))
                            for k in sorted(truth))
            for peer, out in outputs.items()}


def _govuk(data: Path | None) -> tuple[Path, dict] | None:
    """The GOV.UK set: the folder given, or built under bench/.cache if it is not there."""
    from bench import govuk_set

    folder = data or govuk_set.DEFAULT_OUT
    if not (folder / "ground-truth.json").is_file():
        if data is not None or not (govuk_set.DATA / "content_schemas").is_dir():
            return None
        govuk_set.build(folder)
    return folder, json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="benchmark folder")
    parser.add_argument("--govuk", type=Path, default=None,
                        help="GOV.UK set folder (default: built by bench/govuk_set.py)")
    parser.add_argument("--worst", type=int, default=5, help="how many worst documents to list")
    args = parser.parse_args(argv)

    truth_file = args.data / "ground-truth.json"
    if not truth_file.is_file():
        print(f"error: benchmark data not found: {truth_file}", file=sys.stderr)
        return 2
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    ids = sorted(truth)
    ours, ours_title, seconds = _ours(args.data, truth)

    rows: list[tuple[str, tuple[float, float, float], str]] = [
        ("hubsearch (ours)", summarise(ours.values()), "measured"),
        ("hubsearch + title", summarise(ours_title.values()), "measured"),
    ]
    measured: dict[str, float] = {}
    for peer, published in PUBLISHED.items():
        output = args.data / "output" / f"{peer}.json"
        if output.is_file():
            predicted = load_outputs(output)
            result = summarise(
                match(truth[k].get("articleBody", ""), predicted.get(k, "")) for k in ids
            )
            measured[peer] = result[0]
            rows.append((peer, result, f"measured (published F1 {published[0]:.3f})"))
        else:
            measured[peer] = published[0]
            rows.append((peer, published, "published"))

    print(f"article benchmark: {len(ids)} documents, our extraction took {seconds:.1f} s\n")
    _table(rows)
    worst = sorted(ids, key=lambda k: document_f1(ours[k]))[: args.worst]
    print(f"\nworst {len(worst)} documents by F1 (ours):")
    for key in worst:
        s = ours[key]
        print(f"  {key}  f1={document_f1(s):.3f} p={_precision(*s):.3f} r={_recall(*s):.3f}")

    f1, precision, recall = rows[0][1]
    peers = " ".join(f"{RESULT_KEY.get(p, p)}_f1={v:.4f}" for p, v in measured.items())
    result = f"RESULT f1={f1:.4f} precision={precision:.4f} recall={recall:.4f} {peers}"

    govuk = _govuk(args.govuk)
    if govuk is None:
        print("\nGOV.UK set: skipped (no set given and ../shared/data/govuk-content is absent)")
    else:
        folder, gtruth = govuk
        g_ours, _, g_seconds = _ours(folder, gtruth)
        headings = heading_recall(folder, gtruth)
        g_rows = [("hubsearch (ours)", summarise(g_ours.values()), "measured")]
        g_peers = _live_peers(folder, gtruth)
        g_rows += [(peer, scores, "measured here") for peer, scores in g_peers.items()]
        print(f"\nGOV.UK set: {len(gtruth)} pages, our extraction took {g_seconds:.1f} s; "
              f"{headings:.3f} of the bodies' headings kept\n")
        _table(g_rows)
        worst = sorted(gtruth, key=lambda k: document_f1(g_ours[k]))[: args.worst]
        print(f"\nworst {len(worst)} GOV.UK pages by F1 (ours):")
        for key in worst:
            s = g_ours[key]
            print(f"  {key}  f1={document_f1(s):.3f} p={_precision(*s):.3f} "
                  f"r={_recall(*s):.3f}")
        result += f" govuk_f1={g_rows[0][1][0]:.4f} govuk_headings={headings:.4f} " + " ".join(
            f"{RESULT_KEY.get(p, p)}_govuk_f1={v[0]:.4f}" for p, v in g_peers.items())
    print(result)
    return 0


def _table(rows: list[tuple[str, tuple[float, float, float], str]]) -> None:
    print(f"{'extractor':<20} {'F1':>6} {'prec':>6} {'recall':>6}  source")
    for name, (f1, precision, recall), source in rows:
        print(f"{name:<20} {f1:>6.3f} {precision:>6.3f} {recall:>6.3f}  {source}")


if __name__ == "__main__":
    sys.exit(main())
