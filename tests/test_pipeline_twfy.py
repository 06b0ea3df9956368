"""The walking skeleton end to end: real parlparse XML → Dagster assets → real Weaviate → search/API.

Runs against the services started by scripts/test.sh, in a Weaviate collection of its own.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from democrata_core.index import SearchFilters
from democrata_core.retrieval import Retriever

pytestmark = pytest.mark.integration

DAY = "2009-10-29"
ARTS_SPEECH = "uk.org.publicwhip/lords/2009-10-29a.1288.0"  # Lord Ramsbotham, Coroners and Justice Bill
FIREWORKS_SPEECH = "uk.org.publicwhip/debate/2009-10-29a.468.2"  # Lorely Burt, Business of the House


@pytest.fixture(scope="module")
def indexed_day(run_partition):
    result, metadata, checks = run_partition("twfy", DAY)
    assert result.success
    return metadata, checks


@pytest.fixture(scope="module")
def retriever(chunk_index, embedder):
    return Retriever(chunk_index, embedder)


def test_every_stage_reports_counts(indexed_day, mirror_root):
    metadata, checks = indexed_day
    raw_speeches = sum(
        len(re.findall(rb"<speech\b", p.read_bytes()))
        for p in (mirror_root / "twfy").glob(f"*/*{DAY}*.xml")
        if "divisions" not in p.parent.name
    )
    assert metadata["raw"]["files"] == 4  # debates, lords, Westminster Hall, lords divisions
    assert metadata["cleaned"]["documents_speech"] == raw_speeches == 666
    assert metadata["cleaned"]["quarantined"] == 0
    assert metadata["chunked"]["chunks"] >= metadata["cleaned"]["documents"]
    assert metadata["embedded"]["vectors"] == metadata["chunked"]["chunks"]
    assert metadata["index"]["index_count"] == metadata["chunked"]["chunks"]
    assert checks["no_quarantined_records"].passed and checks["index_matches_chunks"].passed


def test_materialising_a_day_twice_leaves_the_same_objects(indexed_day, run_partition, chunk_index):
    metadata, _ = indexed_day
    _, again, _ = run_partition("twfy", DAY)
    chunks = again["chunked"]["chunks"]
    assert chunks == metadata["chunked"]["chunks"]
    assert chunk_index.count("twfy", DAY) == chunks == again["index"]["index_count"]
    # Nothing changed, so nothing was re-embedded or rewritten.
    assert again["embedded"]["cache_misses"] == 0
    assert (again["index"]["written"], again["index"]["unchanged"]) == (0, chunks)


def test_a_partition_that_shrinks_leaves_no_stale_objects(
    indexed_day, run_partition, mirror_copy, chunk_index
):
    metadata, _ = indexed_day
    trimmed = mirror_copy("twfy")
    (trimmed / "twfy" / "westminhall" / f"westminster{DAY}a.xml").unlink()
    try:
        _, smaller, _ = run_partition("twfy", DAY, mirror=trimmed)
        assert smaller["chunked"]["chunks"] < metadata["chunked"]["chunks"]
        assert (
            smaller["index"]["deleted_stale"] == metadata["chunked"]["chunks"] - smaller["chunked"]["chunks"]
        )
        assert chunk_index.count("twfy", DAY) == smaller["chunked"]["chunks"]
    finally:
        _, restored, _ = run_partition("twfy", DAY)
    assert chunk_index.count("twfy", DAY) == restored["chunked"]["chunks"] == metadata["chunked"]["chunks"]


def test_distinctive_phrase_finds_its_speech_with_filters_honoured(indexed_day, retriever):
    query = "Arts Alliance voluntary organisations bringing the arts to offenders"
    hits = retriever.search(query, SearchFilters(), limit=3)
    assert ARTS_SPEECH in [h.native_id for h in hits]
    hit = next(h for h in hits if h.native_id == ARTS_SPEECH)
    assert (hit.speaker, hit.house, hit.date, hit.column) == (
        "Lord Ramsbotham",
        "lords",
        dt.date(2009, 10, 29),
        "1288",
    )
    assert "Coroners and Justice Bill" in hit.heading
    assert hit.url.startswith("https://www.theyworkforyou.com/lords/?id=2009-10-29a.1288.0")

    commons_only = retriever.search(query, SearchFilters(house="commons"), limit=10)
    assert commons_only and all(h.house == "commons" for h in commons_only)
    assert ARTS_SPEECH not in [h.native_id for h in commons_only]
    earlier = retriever.search(query, SearchFilters(date_to=dt.date(2009, 10, 28)), limit=10)
    assert ARTS_SPEECH not in [h.native_id for h in earlier]
    assert all(h.date <= dt.date(2009, 10, 28) for h in earlier)


def test_speaker_filter(indexed_day, retriever):
    hits = retriever.search("fireworks curfew at night", SearchFilters(speaker="Lorely Burt"), limit=3)
    assert hits and {h.speaker for h in hits} == {"Lorely Burt"}
    assert hits[0].native_id == FIREWORKS_SPEECH


def test_search_api(indexed_day, settings):
    from democrata_serving.app import create_app

    with TestClient(create_app(settings)) as client:
        response = client.get(
            "/search",
            params={
                "q": "fireworks curfew",
                "house": "commons",
                "date_from": DAY,
                "date_to": DAY,
                "limit": 3,
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == len(body["hits"]) > 0
        top = body["hits"][0]
        assert set(top) >= {"text", "score", "speaker", "house", "date", "heading", "url", "native_id"}
        assert FIREWORKS_SPEECH in [h["native_id"] for h in body["hits"]]
        assert all(h["house"] == "commons" and h["date"] == DAY for h in body["hits"])

        answer = client.get("/ask", params={"q": "What did the Arts Alliance say about offenders?"}).json()
        assert answer["mode"] == "extractive"
        assert answer["citations"] and re.search(r"\[1\]", answer["answer"])
        assert ARTS_SPEECH in [c["native_id"] for c in answer["citations"]]

        assert (
            client.get("/search", params={"q": "x", "date_from": DAY, "date_to": "2009-01-01"}).status_code
            == 422
        )
        assert client.get("/readyz").status_code == 200


def test_truncated_file_lands_what_parses_and_quarantines_the_rest(
    indexed_day, run_partition, mirror_copy, chunk_index, settings
):
    """One damaged file: its good part lands, the fault is quarantined by file and line, and the
    check warns; other partitions keep exactly what they had."""
    before_other_day = chunk_index.count("twfy", DAY)
    damaged_day = "2009-10-27"
    mirror = mirror_copy("twfy")
    for path in (mirror / "twfy").rglob("*.xml"):
        if damaged_day not in path.name or path.parent.name != "westminhall":
            path.unlink()  # keep the test small: one Westminster Hall file for the day
    target = mirror / "twfy" / "westminhall" / f"westminster{damaged_day}a.xml"
    raw = target.read_bytes()
    target.write_bytes(raw[: int(len(raw) * 0.6)])
    intact_speeches = len(re.findall(rb"<speech\b", raw[: int(len(raw) * 0.6)]))

    result, metadata, checks = run_partition("twfy", damaged_day, mirror=mirror, raise_on_error=False)

    assert result.success
    cleaned = metadata["cleaned"]
    assert cleaned["quarantined"] >= 1
    assert intact_speeches - 1 <= cleaned["documents_speech"] < 125
    assert "westminhall/westminster2009-10-27a.xml" in cleaned["quarantine"]
    check = checks["no_quarantined_records"]
    assert not check.passed and check.severity.value == "WARN"
    assert metadata["index"]["index_count"] == metadata["chunked"]["chunks"] > 0

    from democrata_core.storage import build_landing_zone

    (record, *_) = build_landing_zone(settings).read_quarantine("twfy")
    assert record.partition_key == damaged_day and record.file == "westminhall/westminster2009-10-27a.xml"
    assert record.line and re.search(rf"line {record.line}\b", record.reason)
    assert chunk_index.count("twfy", DAY) == before_other_day
