"""Posting arrays (indexer/postings.py): written once per segment by the indexer, read by
the search path instead of decoding Whoosh's pickled blocks, and never a reason to fail."""

from __future__ import annotations

import shutil

from indexer import generations
from indexer.postings import DIRECTORY, META, SegmentPostings
from indexer.search import PassageSearcher


def _segment_ids(generation):
    with generations.open_index(generation).reader() as reader:
        return {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}


def test_every_segment_of_the_served_generation_has_its_arrays(demo_index):
    settings, _ = demo_index
    current = generations.current_generation(settings.storage.index_dir)
    written = {p.name for p in (current / DIRECTORY).iterdir()}
    assert written == _segment_ids(current)
    for segment_id in written:
        arrays = SegmentPostings(current / DIRECTORY / segment_id)
        term = arrays.find("text", b"traffick")
        ids, weights = arrays.postings(term)
        assert term >= 0 and len(ids) == len(weights) > 0
        assert (ids[1:] > ids[:-1]).all(), "passage numbers ascend, as Whoosh keeps them"
        assert arrays.find("text", b"zzzunknownword") == -1


def test_a_generation_without_arrays_answers_the_same_through_whoosh(demo_index, tmp_path):
    settings, _ = demo_index
    current = generations.current_generation(settings.storage.index_dir)
    plain = tmp_path / "index"
    copy = plain / current.name
    shutil.copytree(current, copy)
    generations.switch_to(plain, copy)
    # A generation built before posting arrays existed; and one whose arrays are damaged.
    shutil.rmtree(copy / DIRECTORY)
    before = PassageSearcher(settings.storage.index_dir)
    after = PassageSearcher(plain)
    for query in ["national referral mechanism", '"duty to notify"', "exploitation -labour"]:
        expected = before.search(query).to_dict()
        assert after.search(query).to_dict() == expected
    damaged = tmp_path / "damaged"
    shutil.copytree(plain, damaged, symlinks=True)
    target = generations.current_generation(damaged)
    segment = (current / DIRECTORY).iterdir().__next__().name
    (target / DIRECTORY / segment).mkdir(parents=True)
    (target / DIRECTORY / segment / META).write_text("{not json", encoding="utf-8")
    assert PassageSearcher(damaged).search("duty to notify").to_dict() == \
        before.search("duty to notify").to_dict()


def test_facet_arrays_that_do_not_match_their_values_are_not_trusted(demo_index, tmp_path):
    import json

    from indexer.column_arrays import DIRECTORY as COLUMNS

    settings, _ = demo_index
    current = generations.current_generation(settings.storage.index_dir)
    copy = tmp_path / "index" / current.name
    shutil.copytree(current, copy)
    generations.switch_to(tmp_path / "index", copy)
    for meta_path in (copy / COLUMNS).glob("*/meta.json"):
        meta = json.loads(meta_path.read_text())
        # Codes now point past the values they stand for: a damaged or forged file.
        meta["single"]["source"] = []
        meta_path.write_text(json.dumps(meta))
    expected = PassageSearcher(settings.storage.index_dir).search("slavery").to_dict()
    assert PassageSearcher(tmp_path / "index").search("slavery").to_dict() == expected


def test_arrays_taken_as_segments_are_written_equal_those_read_back_from_whoosh(
        demo_index, tmp_path):
    from indexer.postings import write_segment_postings
    from indexer.schema import MATCHING_FIELDS

    settings, _ = demo_index
    current = generations.current_generation(settings.storage.index_dir)
    # Warming found nothing left to write: the build's field writers wrote every segment's.
    assert generations.warm(current)["segments_written"] == 0
    with generations.open_index(current).reader() as reader:
        for leaf, _ in reader.leaf_readers():
            segment_id = leaf.segment().segment_id()
            write_segment_postings(tmp_path / segment_id, leaf, MATCHING_FIELDS)
            for name in sorted(p.name for p in (tmp_path / segment_id).iterdir()):
                written = (current / DIRECTORY / segment_id / name).read_bytes()
                assert written == (tmp_path / segment_id / name).read_bytes(), name
