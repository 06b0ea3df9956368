"""Every bundled sample, from every source, through the same generic pipeline into one index.

Materialises every partition the mirror offers (the week of parlparse XML, the Bills API, both
Votes APIs, the Hansard API and ParlaMint), then checks counts against the raw data and the
cross-source searches and links a reader relies on.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from democrata_assets.definitions import PIPELINES
from democrata_core.index import SearchFilters
from democrata_core.retrieval import Retriever

pytestmark = pytest.mark.integration
SOURCES = ["twfy", "uk_bills", "commons_votes", "lords_votes", "hansard_api", "parlamint"]


@pytest.fixture(scope="module")
def landed(run_partition, mirror_root):
    """source → {partition → metadata}, after materialising everything the mirror lists."""
    out: dict[str, dict[str, dict]] = {}
    for source in SOURCES:
        pipeline = PIPELINES[source]
        connector = pipeline.connector_cls(base_url=(mirror_root / source).as_uri())
        for key in connector.list_partitions():
            result, metadata, checks = run_partition(source, key)
            assert result.success, f"{source}/{key} failed"
            assert checks["index_matches_chunks"].passed
            out.setdefault(source, {})[key] = metadata
    return out


@pytest.fixture(scope="module")
def retriever(chunk_index, embedder):
    return Retriever(chunk_index, embedder)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_sample_file_lands_raw_and_every_partition_is_indexed(landed, mirror_root, chunk_index):
    landed_hashes = {
        digest
        for partitions in landed.values()
        for meta in partitions.values()
        for digest in meta["raw"]["sha256"].values()
    }
    for source in SOURCES:
        samples = [p for p in (mirror_root / source).rglob("*") if p.is_file() and p.name != "ATTRIBUTION.md"]
        assert samples, source
        for sample in samples:
            if source == "hansard_api" and "calendar" in sample.name:
                continue  # the sitting calendar is read when listing partitions, never landed
            assert _sha(sample.read_bytes()) in landed_hashes, f"{sample} never landed"
        for key, meta in landed[source].items():
            assert chunk_index.count(source, key) == meta["chunked"]["chunks"], f"{source}/{key}"
        assert chunk_index.count(source) > 0


def test_per_source_counts_match_the_raw_data(landed, mirror_root):
    def documents(source: str, kind: str) -> int:
        return sum(m["cleaned"].get(f"documents_{kind}", 0) for m in landed[source].values())

    raw_speeches = sum(
        len(re.findall(rb"<speech\b", p.read_bytes()))
        for p in (mirror_root / "twfy").rglob("*.xml")
        if "divisionsonly" not in p.parent.name  # subset views repeat the day files' speeches
    )
    assert documents("twfy", "speech") == raw_speeches
    assert documents("twfy", "division") == 4 + 6 + 5  # Commons 230-233, Lords 6, committee 5
    assert documents("commons_votes", "division") == 25
    assert documents("lords_votes", "division") == 1
    assert documents("uk_bills", "bill") == 21  # 20 from the list page (of 3660) + bill 512
    utterances = sum(
        len(re.findall(rb"<u\s", p.read_bytes())) for p in (mirror_root / "parlamint").rglob("*.xml")
    )
    assert documents("parlamint", "speech") == utterances == 16
    gaps = sum(
        len(re.findall(rb"<desc[^>]*>\s*SAMPLING\s*</desc>", p.read_bytes()))
        for p in (mirror_root / "parlamint").rglob("*.xml")
    )
    assert sum(m["cleaned"]["skipped_sampling_gaps"] for m in landed["parlamint"].values()) == gaps == 7
    assert all(m["cleaned"]["quarantined"] == 0 for parts in landed.values() for m in parts.values())


def test_commons_division_1873_is_found_first_with_its_counts(landed, retriever):
    hits = retriever.search(
        "Non-Domestic Rating Bill second reading vote", SearchFilters(source="commons_votes")
    )
    assert hits[0].native_id == "1873"
    assert "Ayes 336, Noes 175" in hits[0].text
    chunks = retriever.index.find_by_property("native_id", "1873", limit=5)
    assert any("Tellers:" in c["text"] for c in chunks if c["source"] == "commons_votes")


def test_lords_division_3172_counts(landed, retriever):
    hits = retriever.search(
        "Water (Special Measures) Bill amendment 51 division", SearchFilters(source="lords_votes")
    )
    assert hits[0].native_id == "3172"
    assert "Contents 36, Not contents 89" in hits[0].text


def test_spanish_query_finds_the_parlamint_es_speech(landed, retriever):
    hits = retriever.search("convenio económico con Navarra", SearchFilters(language="es"), limit=3)
    # u2: the Congreso chair opens the bills on the economic agreements with Navarra and the Basque Country.
    assert hits and hits[0].native_id == "ParlaMint-ES_2023-02-23-CD230223.u2"
    assert hits[0].source == "parlamint" and hits[0].language == "es"
    unfiltered = retriever.search("convenio económico con Navarra", limit=3)
    assert unfiltered[0].native_id == hits[0].native_id


def test_marine_bill_report_stage_finds_speeches_and_linked_divisions(landed, retriever):
    query = "Marine and Coastal Access Bill report stage"
    divisions = retriever.search(query, SearchFilters(source="twfy", kind="division"), limit=5)
    by_number = {h.division_number: h for h in divisions if h.division_number in (230, 231)}
    assert set(by_number) == {230, 231}
    for hit in by_number.values():
        assert "Marine and Coastal Access Bill" in (hit.bill_title or "")
        debate = [link for link in hit.links if link.rel == "debate"]
        assert debate and debate[0].resolved_native_id, (
            f"division {hit.division_number} not linked to its debate"
        )
    speeches = retriever.search(query, SearchFilters(source="twfy", kind="speech"), limit=10)
    marine = [h for h in speeches if "Marine and Coastal Access Bill" in h.heading]
    assert {h.date.isoformat() for h in marine} >= {"2009-10-26", "2009-10-27"}


def test_constitutional_reform_bill_record_has_its_publications(landed, retriever):
    hits = retriever.search(
        "Constitutional Reform and Governance Bill", SearchFilters(source="uk_bills"), limit=3
    )
    assert hits[0].native_id == "512"
    assert "Publications:" in hits[0].text or any(link.rel == "publication" for link in hits[0].links)
    assert sum(1 for link in hits[0].links if link.rel == "publication") >= 41
