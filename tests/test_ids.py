from __future__ import annotations

import uuid

from democrata_core.ids import chunk_id, content_hash, document_id


def test_ids_are_deterministic_uuid5():
    a = chunk_id("twfy", "uk.org.publicwhip/debate/2009-10-26b.1.0", 0)
    assert a == chunk_id("twfy", "uk.org.publicwhip/debate/2009-10-26b.1.0", 0)
    assert uuid.UUID(a).version == 5


def test_ids_differ_by_source_native_id_and_chunk():
    base = chunk_id("twfy", "x", 0)
    assert len({base, chunk_id("twfy", "x", 1), chunk_id("parlamint", "x", 0), chunk_id("twfy", "y", 0)}) == 4
    assert document_id("twfy", "x") != chunk_id("twfy", "x", 0)


def test_separator_prevents_concatenation_collisions():
    assert document_id("ab", "c") != document_id("a", "bc")
    assert content_hash("ab", "c") != content_hash("a", "bc")
