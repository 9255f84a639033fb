"""bench/scale.py: its corpus perturbation, its FTS5 reference, and one run at a tiny size
through the whole production path (store, `hubsearch index --full`, a 1% change,
`hubsearch index`, `hubsearch serve` and the reference endpoint under load)."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scalekit import corpus
from bench.scalekit import fts5_reference as fts5
from crawler.document import ExtractedDocument, Section

ROOT = Path(__file__).parent.parent
needs_data = pytest.mark.skipif(
    not (corpus.DATA / "cranfield").is_dir(),
    reason=f"real text not found at {corpus.DATA} (../shared/data is not checked out)",
)

SENTENCES = " ".join(f"Sentence number {i} talks about wing flutter and heat transfer."
                     for i in range(40))


def _document() -> ExtractedDocument:
    return ExtractedDocument("Wing flutter", "pdf", "en", [
        Section(["Part 1", "Flutter"], f"{SENTENCES}\n\n{SENTENCES}", "flutter", 3),
        Section(["Part 2"], "One sentence only.", None, 4),
    ])


def test_perturbation_is_light_keeps_structure_and_is_the_same_for_the_same_seed():
    doc = _document()
    words = ["alpha", "beta", "gamma"]
    edited = corpus.perturb(doc, random.Random("https://example.org/x|1"), words)
    again = corpus.perturb(doc, random.Random("https://example.org/x|1"), words)
    other = corpus.perturb(doc, random.Random("https://example.org/x|2"), words)

    assert edited == again
    assert edited != other
    assert edited.title == doc.title
    assert [(s.heading_path, s.anchor, s.page) for s in edited.sections] == [
        (s.heading_path, s.anchor, s.page) for s in doc.sections]
    before, after = doc.sections[0].text.split(), edited.sections[0].text.split()
    assert after != before
    # Light: most of the text survives (5% of sentences dropped, 2% of words replaced).
    assert 0.8 * len(before) <= len(after) <= len(before)
    assert edited.sections[0].text.count("\n\n") == 1
    # A one-sentence paragraph is never dropped.
    assert edited.sections[1].text.split()[-1] in ("only.", "alpha", "beta", "gamma")
    assert doc == _document()  # the base document itself is untouched


def test_the_reference_ands_every_word_and_ors_the_words_that_are_not_stop_words():
    every, wide = fts5.expressions('the wing "heat transfer" flutter')
    assert every == '"heat transfer" AND "the" AND "wing" AND "flutter"'
    assert wide == '"heat transfer" OR "wing" OR "flutter"'
    assert fts5.expressions("") == (None, None)
    # Quotes inside words cannot become FTS5 syntax.
    assert fts5.expressions('a" OR b') == ('"a" AND "or" AND "b"', '"b"')


def test_the_reference_tops_up_all_words_with_any_word_and_counts_what_matched(tmp_path):
    db_path = tmp_path / "fts.sqlite"
    rows = [("Wing", "", "wing flutter at speed", "https://example.org/1", "#1"),
            ("Heat", "Part", "heat transfer in a wing", "https://example.org/2", "#2"),
            ("Other", "", "nothing relevant", "https://example.org/3", "#3")]
    assert fts5.build(db_path, rows) == 3
    db = fts5.connect(db_path)

    both = fts5.search(db, "wing flutter")
    assert [r["document_url"] for r in both["results"]] == [
        "https://example.org/1", "https://example.org/2"]
    assert both["total"] == 2 and both["matched"] == "any"
    assert "<mark>" in both["results"][0]["snippet_html"]
    # A capped count stops at the cap ("1+"), and the page is the same.
    capped = fts5.search(db, "wing flutter", count_limit=1)
    assert capped["total"] == 1 and capped["results"] == both["results"]
    phrase = fts5.search(db, '"heat transfer"')
    assert phrase["total"] == 1 and phrase["results"][0]["title"] == "Heat"
    assert fts5.search(db, "the")["total"] == 0
    db.close()


@needs_data
def test_a_tiny_run_goes_through_the_production_path_and_reports_every_key():
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--sizes", "500", "--seconds", "1", "--warmup",
         "0.5", "--sources", "cranfield,articles"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT ")
    values = dict(pair.split("=") for pair in last.split()[1:])
    for key in ("build_s peak_rss_mb disk_mb incr_ratio p95_ms ref_p95_ms rps ref_rps rss_mb "
                "ref_rss_mb errors natural_p95_ms first_query_s").split():
        assert f"{key}_500" in values, key
    assert int(values["passages_500"]) >= 500
    assert int(values["queries_500"]) >= 300
    assert values["errors_500"] == "0" and values["ref_errors_500"] == "0"
    assert float(values["rss_mb_500"]) > 0 and float(values["ref_rss_mb_500"]) > 0
    # The change was picked up incrementally, and only the changed documents were rewritten.
    assert re.search(r"incremental\b.*\b3 changed", done.stderr)
    # Sizes that were not run are left out, never printed as 0.
    assert not any(key.endswith(("_5k", "_50k")) for key in values)


def test_the_cluster_helper_finds_the_launcher_it_starts_in_tools():
    from bench.scalekit import os_cluster

    # `--backend opensearch` starts tools/opensearch_cluster from here; a wrong root is only
    # found an hour into a run otherwise.
    assert (os_cluster.TOOLS / "opensearch_cluster" / "cluster.py").is_file()
    assert os_cluster.TOOLS == ROOT.resolve() / "tools"
