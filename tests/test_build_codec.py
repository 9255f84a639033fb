"""The indexer's codec (indexer/build_codec.py) writes the very files Whoosh's own W3 codec
writes, only with less work per posting; and what it takes on the way (posting arrays,
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


def _build(folder: Path, codec: W3Codec) -> dict[str, bytes]:
    folder.mkdir()
    ix = index.create_in(str(folder), build_schema())
    writer = ix.writer(codec=codec, compound=False)
    for n, doc in enumerate(_documents()):
        add_document(writer, f"https://hub.example/docs/{n}", doc, source="hub",
                     audience=("health",))
    writer.commit()
    (segment,) = ix._segments()
    prefix = segment.segment_id()
    return {p.name.removeprefix(prefix): p.read_bytes()
            for p in folder.iterdir() if p.name.startswith(prefix)}


def test_segment_files_are_byte_for_byte_those_of_whooshs_own_codec(tmp_path):
    ours = _build(tmp_path / "ours", BuildCodec())
    whooshs = _build(tmp_path / "whoosh", W3Codec())
    assert {".trm", ".pst"} <= set(ours)
    assert ours.keys() == whooshs.keys()
    for ext in ours:
        assert ours[ext] == whooshs[ext], f"{ext} differs"


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
