from __future__ import annotations

import datetime as dt

from democrata_core.chunking import chunk_document, pack_paragraphs
from democrata_core.models import Division, Link, MemberVote, Speech


def words(text: str) -> int:
    return len(text.split())


def speech(paragraphs, **kw) -> Speech:
    return Speech(
        source="twfy",
        native_id="uk.org.publicwhip/debate/2009-10-26b.5.1",
        partition_key="2009-10-26",
        house="commons",
        date=dt.date(2009, 10, 26),
        title="New Clause 1",
        heading_path=["Marine and Coastal Access Bill [Lords]", "New Clause 1"],
        speaker_name="Huw Irranca-Davies",
        paragraphs=paragraphs,
        **kw,
    )


def test_short_speech_is_one_chunk_with_heading_context():
    chunks = chunk_document(speech(["I beg to move.", "The coastal path matters."]), 256, words)
    assert len(chunks) == 1
    assert chunks[0].heading == "Marine and Coastal Access Bill [Lords] › New Clause 1"
    assert chunks[0].embedding_text.startswith("Marine and Coastal Access Bill [Lords] › New Clause 1\n")
    assert chunks[0].properties["speaker"] == "Huw Irranca-Davies"


def test_long_speech_splits_on_paragraphs_within_budget():
    paragraphs = [f"paragraph {i}" + " word" * 40 for i in range(10)]
    chunks = chunk_document(speech(paragraphs), 100, words)
    heading_tokens = words(chunks[0].heading)
    assert len(chunks) > 1
    assert all(words(c.text) <= 100 - heading_tokens for c in chunks)
    # Every paragraph lands whole and in order.
    assert "\n\n".join(c.text for c in chunks) == "\n\n".join(paragraphs)
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_oversized_paragraph_splits_on_sentences():
    paragraph = " ".join(f"Sentence number {i} is here." for i in range(60))
    pieces = pack_paragraphs([paragraph], 20, words)
    assert len(pieces) > 1
    assert all(words(p) <= 20 for p in pieces)
    assert " ".join(pieces) == paragraph


def test_division_renders_counts_parties_and_tellers():
    division = Division(
        source="twfy",
        native_id="uk.org.publicwhip/division/2009-10-26b.100.0",
        partition_key="2009-10-26",
        house="commons",
        date=dt.date(2009, 10, 26),
        number=230,
        bill_title="Marine and Coastal Access Bill [Lords]",
        stage="report stage",
        ayes=2,
        noes=1,
        votes=[
            MemberVote(name="Ann A", vote="aye", party="Labour"),
            MemberVote(name="Bob B", vote="aye", party="Labour", teller=True),
            MemberVote(name="Cat C", vote="no", party="Conservative"),
            MemberVote(name="Dan D", vote="no_vote", party="Conservative"),
        ],
        links=[Link(rel="debate", label="Marine and Coastal Access Bill [Lords]", target="x")],
    )
    text = division.render_text()
    assert text.startswith(
        "Division 230, 26 Oct 2009, Marine and Coastal Access Bill [Lords], report stage: Ayes 2, Noes 1"
    )
    assert "Conservative 0 aye, 1 no; Labour 2 aye, 0 no" in text
    assert "Tellers: Bob B (aye)" in text
    assert division.party_breakdown == {"Conservative": {"aye": 0, "no": 1}, "Labour": {"aye": 2, "no": 0}}
    headline, breakdown = chunk_document(division, 256, words)
    # The headline is a chunk of its own so a long member breakdown cannot dilute its vector.
    assert headline.text == division.headline() and headline.text.endswith("Ayes 2, Noes 1.")
    assert breakdown.text.startswith("By party: Conservative 0 aye, 1 no")
    for chunk in (headline, breakdown):
        assert chunk.native_id == division.native_id
        assert chunk.properties["division_number"] == 230
        assert chunk.properties["members"] == ["Ann A", "Bob B", "Cat C"]


def test_lords_division_uses_content_labels():
    division = Division(
        source="lords_votes",
        native_id="3172",
        partition_key="2024-11-20",
        house="lords",
        date=dt.date(2024, 11, 20),
        number=1,
        title="Water (Special Measures) Bill [HL]",
        ayes=36,
        noes=89,
    )
    assert "Contents 36, Not contents 89" in division.render_text()


def test_computed_ids_and_citation_round_trip_through_json():
    s = speech(["Text."], url="https://www.theyworkforyou.com/debates/?id=2009-10-26b.5.1")
    dumped = s.model_dump(mode="json")
    assert dumped["doc_id"] == s.doc_id and dumped["citation_url"] == s.url
    assert (
        Speech.model_validate(
            {k: v for k, v in dumped.items() if k not in ("doc_id", "citation_url", "text")}
        )
        == s
    )
