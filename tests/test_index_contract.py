"""The index contract against the real Weaviate: exact partition replacement, refusals, filters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from democrata_core.chunking import chunk_document
from democrata_core.index import ChunkIndex, SearchFilters
from democrata_core.models import Speech

pytestmark = pytest.mark.integration


def _speech(i: int, partition: str = "2001-01-01", text: str | None = None) -> Speech:
    return Speech(
        source="contract",
        native_id=f"speech-{i}",
        partition_key=partition,
        house="commons" if i % 2 else "lords",
        date=dt.date.fromisoformat(partition),
        title="Test heading",
        speaker_name=f"Member {i}",
        paragraphs=[text or f"Speech number {i} about harbour dues and lighthouse funding."],
    )


def _chunks(docs, embedder):
    chunks = [c for d in docs for c in chunk_document(d, embedder.max_tokens, embedder.count_tokens)]
    return chunks, embedder.embed([c.embedding_text for c in chunks])


def test_sync_replaces_exactly_one_partition(chunk_index: ChunkIndex, embedder):
    first, v1 = _chunks([_speech(i) for i in range(6)], embedder)
    other, v2 = _chunks([_speech(i, "2001-01-02") for i in range(10, 13)], embedder)
    chunk_index.sync_partition("contract", "2001-01-01", first, v1, embedder.model_name)
    chunk_index.sync_partition("contract", "2001-01-02", other, v2, embedder.model_name)

    changed = [_speech(0, text="An entirely new text about ferries."), *(_speech(i) for i in range(1, 4))]
    chunks, vectors = _chunks(changed, embedder)
    report = chunk_index.sync_partition("contract", "2001-01-01", chunks, vectors, embedder.model_name)
    assert (report.written, report.unchanged, report.deleted) == (1, 3, 2)
    assert chunk_index.count("contract", "2001-01-01") == 4
    assert chunk_index.count("contract", "2001-01-02") == 3  # untouched

    hits = chunk_index.search(
        "ferries", embedder.embed(["ferries"])[0], SearchFilters(source="contract"), limit=1
    )
    assert hits[0].properties["native_id"] == "speech-0"
    lords = chunk_index.search(
        "harbour", embedder.embed(["harbour"])[0], SearchFilters(source="contract", house="lords")
    )
    assert lords and all(h.properties["house"] == "lords" for h in lords)

    assert chunk_index.delete_partition("contract", "2001-01-02") == 3
    assert chunk_index.count("contract", "2001-01-02") == 0


def test_sync_refuses_chunks_of_another_partition_and_duplicates(chunk_index: ChunkIndex, embedder):
    chunks, vectors = _chunks([_speech(1)], embedder)
    with pytest.raises(ValueError, match="passed to sync"):
        chunk_index.sync_partition("contract", "2001-01-09", chunks, vectors, embedder.model_name)
    with pytest.raises(ValueError, match="duplicate chunk ids"):
        chunk_index.sync_partition(
            "contract", "2001-01-01", chunks * 2, np.vstack([vectors, vectors]), embedder.model_name
        )
    with pytest.raises(ValueError, match="vectors"):
        chunk_index.sync_partition("contract", "2001-01-01", chunks, vectors[:0], embedder.model_name)


def test_a_change_to_properties_alone_is_rewritten(chunk_index: ChunkIndex, embedder):
    speech = _speech(40, "2001-02-01")
    chunks, vectors = _chunks([speech], embedder)
    chunk_index.sync_partition("contract", "2001-02-01", chunks, vectors, embedder.model_name)
    flagged = speech.model_copy(update={"procedural": True})
    chunks, vectors = _chunks([flagged], embedder)
    report = chunk_index.sync_partition("contract", "2001-02-01", chunks, vectors, embedder.model_name)
    assert (report.written, report.unchanged) == (1, 0)
    (stored,) = chunk_index.find_by_property("native_id", "speech-40")
    assert stored["procedural"] is True
