"""The indexer's writer (indexer/term_pool.py) and codec (indexer/build_codec.py) write the
very files Whoosh's own writer and W3 codec write, only with less work per posting, whether
its postings fit in memory or spill to runs; and what it takes on the way (posting arrays,
spelling counts) equals what reading the segment back gives."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from whoosh import index
from whoosh.codec.whoosh3 import W3Codec

from crawler.document import ExtractedDocument, Section
from indexer.build import add_document
from indexer.build_codec import BuildCodec
from indexer.generations import open_index
from indexer.postings import DIRECTORY, SegmentPostings, write_segment_postings
from indexer.schema import MATCHING_FIELDS, build_schema
from indexer.spelling import SEGMENT_FILE, count_words, passage_texts
from indexer.term_pool import BuildSegmentWriter, TermPool

WORDS = ("referral", "notify", "exploitation", "interpreter", "safeguarding", "wellbeing",
         "practitioner", "appointment", "concern", "guardian")


def _documents() -> list[ExtractedDocument]:
    docs = []
    for n in range(160):
        # "referral" in every passage: a posting list of several of Whoosh's 128-posting
        # blocks; the other words in fewer, some in one passage only.
        sections = [Section(["Part", f"Step {k}"],
                            f"The referral route, step {k} of guide {n}: "
                            f"{' '.join(WORDS[(n + k) % len(WORDS):][:3])}; "
                            f"case{n}x{k} is noted once.")
                    for k in range(2)]
        language = "cy" if n % 7 == 0 else "en"
        docs.append(ExtractedDocument(title=f"Guide {n} on referral", doc_type="html",
                                      language=language, sections=sections, links=[]))
    return docs


def _build(folder: Path, codec: W3Codec, *, ours: bool = True,
           limitmb: float = 128) -> dict[str, bytes]:
    folder.mkdir()
    ix = index.create_in(str(folder), build_schema())
    if ours:
        writer = BuildSegmentWriter(ix, codec=codec, compound=False, limitmb=limitmb)
    else:
        writer = ix.writer(codec=codec, compound=False)
    for n, doc in enumerate(_documents()):
        add_document(writer, f"https://hub.example/docs/{n}", doc, source="hub",
                     audience=("health",))
    writer.commit()
    (segment,) = ix._segments()
    prefix = segment.segment_id()
    return {p.name.removeprefix(prefix): p.read_bytes()
            for p in folder.iterdir() if p.name.startswith(prefix)}


def _assert_same_files(ours: dict[str, bytes], whooshs: dict[str, bytes]) -> None:
    assert {".trm", ".pst"} <= set(ours)
    assert ours.keys() == whooshs.keys()
    for ext in ours:
        assert ours[ext] == whooshs[ext], f"{ext} differs"


def test_segment_files_are_byte_for_byte_those_of_whooshs_own_writer(tmp_path):
    _assert_same_files(_build(tmp_path / "ours", BuildCodec()),
                       _build(tmp_path / "whoosh", W3Codec(), ours=False))


def test_postings_spilled_to_runs_give_the_same_files_and_leave_no_run_behind(tmp_path):
    # A limit of a few KB: the pool writes a run every few passages, and most terms' postings
    # come from several runs.
    spilled = _build(tmp_path / "ours", BuildCodec(), limitmb=0.005)
    assert not list((tmp_path / "ours").rglob("*.terms"))
    _assert_same_files(spilled, _build(tmp_path / "whoosh", W3Codec(), ours=False))


def test_the_codec_also_writes_whooshs_files_from_whooshs_own_pool(tmp_path):
    _assert_same_files(_build(tmp_path / "ours", BuildCodec(), ours=False),
                       _build(tmp_path / "whoosh", W3Codec(), ours=False))


def test_postings_added_out_of_passage_order_come_out_sorted(tmp_path):
    pool = TermPool(str(tmp_path), limitmb=0.0001)  # a run after every posting
    for docnum in (5, 2, 9, 0):
        pool.add(("text", b"referr", docnum, float(docnum), bytes([docnum])))
    pool.add(("text", b"concern", 3, 1.0, None))
    assert [(f, t, ids, weights, values) for f, t, ids, weights, values in pool.iter_terms()] == [
        ("text", b"concern", [3], [1.0], [None]),
        ("text", b"referr", [0, 2, 5, 9], [0.0, 2.0, 5.0, 9.0],
         [b"\x00", b"\x02", b"\x05", b"\x09"]),
    ]
    pool.cleanup()
    assert not list(tmp_path.iterdir())


def test_what_is_taken_while_writing_equals_what_reading_back_gives(tmp_path):
    folder = tmp_path / "ours"
    _build(folder, BuildCodec())
    with open_index(folder).reader() as reader:
        (leaf, _), = reader.leaf_readers()
        segment_id = leaf.segment().segment_id()
        write_segment_postings(tmp_path / "read-back", leaf, MATCHING_FIELDS)
        counts = count_words(t for _, stored in leaf.iter_docs() for t in passage_texts(stored))
    taken = folder / DIRECTORY / segment_id
    for name in sorted(p.name for p in (tmp_path / "read-back").iterdir()):
        assert (taken / name).read_bytes() == (tmp_path / "read-back" / name).read_bytes(), name
    saved = json.loads((folder / SEGMENT_FILE.format(segment_id)).read_text())
    assert Counter(saved["counts"]) == counts and counts["referral"] > 0
    arrays = SegmentPostings(taken)
    ids, _ = arrays.postings(arrays.find("text", b"referr"))
    assert len(ids) > 2 * 128, "a posting list of several blocks"


def test_whooshs_per_document_options_take_whooshs_own_path(tmp_path):
    # `_boost` and the like are Whoosh's options, not fields: the one-call path would refuse
    # them as unknown fields; Whoosh's own loop handles them, as its own writer does.
    def weights(folder: Path, ours: bool) -> dict[int, float]:
        folder.mkdir()
        ix = index.create_in(str(folder), build_schema())
        writer = BuildSegmentWriter(ix, codec=BuildCodec()) if ours else ix.writer()
        writer.add_document(passage_id="a", text="referral route", _boost=2.0)
        writer.add_document(passage_id="b", text="referral route")
        writer.commit()
        with ix.searcher() as searcher:
            return dict(searcher.postings("text", b"referr").items_as("weight"))

    assert weights(tmp_path / "ours", True) == weights(tmp_path / "whoosh", False)
