"""TheyWorkForYou parlparse connector, on the bundled mirror (data/mirror/twfy).

Expected counts come from the raw bytes (regexes here, never the parser under test) or from the
samples README, so a parser that drops or invents records fails.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from democrata_assets.sources.twfy import TwfyConnector
from democrata_assets.sources.twfy.chambers import CHAMBERS, parse_file_name
from democrata_assets.sources.twfy.text import clean_text
from democrata_core.ids import document_id
from democrata_core.models import Division, ParseResult, RawFile, Speech

TWFY_DIRS = sorted(CHAMBERS)
_TWFY_MIRROR = Path(__file__).resolve().parents[2] / "data" / "mirror" / "twfy"
MIRROR_FILES = sorted(p.relative_to(_TWFY_MIRROR).as_posix() for p in _TWFY_MIRROR.glob("*/*.xml"))

# Division numbers per file, from the samples README (section 5) and the raw files.
EXPECTED_DIVISIONS = {
    "debates/debates2009-10-26b.xml": [230],
    "debates/debates2009-10-27d.xml": [231],
    "debates/debates2009-10-28c.xml": [232, 233],
    "debates/debates2009-10-29a.xml": [],
    "divisionsonly/divisions2009-10-26b.xml": [230],
    "divisionsonly/divisions2009-10-27d.xml": [231],
    "divisionsonly/divisions2009-10-28c.xml": [232, 233],
    "lordspages/daylord2009-10-26a.xml": [1, 2, 3, 4],
    "lordspages/daylord2009-10-27a.xml": [],
    "lordspages/daylord2009-10-28a.xml": [1],
    "lordspages/daylord2009-10-29a.xml": [1],
    "lordsdivisionsonly/lordsdivisions2009-10-26a.xml": [1, 2, 3, 4],
    "lordsdivisionsonly/lordsdivisions2009-10-28a.xml": [1],
    "lordsdivisionsonly/lordsdivisions2009-10-29a.xml": [1],
    "standing/standing2009-10-20_CHILDPOV_05-0_2009-10-27a.xml": [1],
    "standing/standing2009-10-20_CHILDPOV_06-0_2009-10-27a.xml": [2, 3, 4, 5],
    "sp/sp2009-10-28.xml": [],
    "westminhall/westminster2009-10-27a.xml": [],
    "westminhall/westminster2009-10-28a.xml": [],
    "westminhall/westminster2009-10-29a.xml": [],
}


@pytest.fixture(scope="module")
def twfy_root(mirror_root: Path) -> Path:
    return mirror_root / "twfy"


@pytest.fixture(scope="module")
def connector(twfy_root: Path) -> TwfyConnector:
    return TwfyConnector(base_url=twfy_root.as_uri())


def raw_file(root: Path, name: str) -> RawFile:
    path = root / name
    return RawFile(name=name, content=path.read_bytes(), url=path.as_uri())


_PARSED: dict[str, ParseResult] = {}


def parsed(connector: TwfyConnector, root: Path, name: str) -> ParseResult:
    """One parse per sample file per test session: keeps the suite fast."""
    if name not in _PARSED:
        key = parse_file_name(name).sitting_date.isoformat()
        _PARSED[name] = connector.parse(raw_file(root, name), key)
    return _PARSED[name]


def speeches(result: ParseResult) -> list[Speech]:
    return [d for d in result.documents if isinstance(d, Speech)]


def divisions(result: ParseResult) -> list[Division]:
    return [d for d in result.documents if isinstance(d, Division)]


def test_mirror_holds_every_sample_file(twfy_root: Path) -> None:
    assert set(MIRROR_FILES) == set(EXPECTED_DIVISIONS)
    assert (twfy_root / "ATTRIBUTION.md").read_text().count("Open Parliament Licence v3.0") >= 1


# -- counts: every sample file -------------------------------------------------------------------


@pytest.mark.parametrize("name", MIRROR_FILES)
def test_every_speech_element_becomes_one_speech(connector, twfy_root, name) -> None:
    content = (twfy_root / name).read_bytes()
    expected = len(re.findall(rb"<speech[\s>]", content))
    result = parsed(connector, twfy_root, name)
    assert len(speeches(result)) == expected
    assert expected > 0
    assert result.quarantined == []
    # ids are the file's own, in file order
    assert [s.native_id for s in speeches(result)] == [
        m.decode() for m in re.findall(rb'<speech[^>]*?\sid="([^"]+)"', content)
    ]


@pytest.mark.parametrize("name", MIRROR_FILES)
def test_every_division_is_parsed(connector, twfy_root, name) -> None:
    content = (twfy_root / name).read_bytes()
    # <division> (Commons/Lords) plus bare committee <divisioncount divnumber=…> (standing files)
    raw_count = len(re.findall(rb"<division[\s>]", content)) + len(
        re.findall(rb"<divisioncount[^>]*\sdivnumber=", content)
    )
    result = parsed(connector, twfy_root, name)
    assert [d.number for d in divisions(result)] == EXPECTED_DIVISIONS[name]
    assert len(divisions(result)) == raw_count


@pytest.mark.parametrize("name", [n for n in MIRROR_FILES if EXPECTED_DIVISIONS[n]])
def test_vote_lists_match_the_raw_lists_and_counts(connector, twfy_root, name) -> None:
    content = (twfy_root / name).read_bytes()
    blocks = re.findall(rb"<division[\s>].*?</division>", content, re.S) or re.findall(
        rb"<divisioncount[^>]*divnumber=.*?</divisioncount>", content, re.S
    )
    for division, block in zip(divisions(parsed(connector, twfy_root, name)), blocks, strict=True):
        members = re.findall(rb"<(?:mpname|lord)\s[^>]*>", block)
        by_vote = Counter(
            re.search(rb'vote="([a-z-]+)"', m).group(1).decode().replace("-", "_") for m in members
        )
        tellers = sum(1 for m in members if b'teller="yes"' in m)
        assert Counter(v.vote for v in division.votes) == by_vote
        assert len(division.tellers) == tellers
        ayes_side = sum(1 for v in division.votes if v.vote in ("aye", "content"))
        noes_side = len(division.votes) - ayes_side
        count = re.search(rb"<divisioncount([^>]*)", block).group(1)
        attrs = {k.decode(): int(v) for k, v in re.findall(rb'([a-z-]+)="(\d+)"', count)}
        if division.house == "lords":  # Lords counts include the tellers
            assert (ayes_side, noes_side) == (attrs["content"], attrs["not-content"])
        else:  # Commons counts exclude them: lists hold ayes + tellerayes
            assert ayes_side == attrs["ayes"] + attrs.get("tellerayes", 0)
            assert noes_side == attrs["noes"] + attrs.get("tellernoes", 0)


# -- division 230 --------------------------------------------------------------------------------


def test_division_230(connector, twfy_root) -> None:
    (division,) = divisions(parsed(connector, twfy_root, "debates/debates2009-10-26b.xml"))
    assert division.number == 230
    assert division.native_id == "uk.org.publicwhip/debate/2009-10-26b.125.5"
    assert (division.ayes, division.noes) == (158, 246)
    assert str(division.date) == "2009-10-26"
    assert division.house == "commons"
    assert len([v for v in division.votes if v.vote == "aye"]) == 158 + 2
    assert len([v for v in division.votes if v.vote == "no"]) == 246 + 2
    assert sorted((t.vote, t.name) for t in division.tellers) == [
        ("aye", "Mr. Graham Stuart"),
        ("aye", "Mr. Philip Hollobone"),
        ("no", "Helen Jones"),
        ("no", "Steve McCabe"),
    ]
    first = division.votes[0]
    assert (first.name, first.member_id, first.vote, first.teller) == (
        "Afriyie, Adam",
        "uk.org.publicwhip/member/1929",
        "aye",
        False,
    )
    assert division.bill_title == "Marine and Coastal Access Bill [Lords]"
    assert division.stage == "report stage"
    assert division.title == "Clause 117 — Grounds for designation of MCZs"
    assert division.heading_path == [
        "Marine and Coastal Access Bill [Lords] — [ist allocated day]",
        "Clause 117 — Grounds for designation of MCZs",
    ]
    debate = [link for link in division.links if link.rel == "debate"]
    assert [(link.label, link.target, link.url) for link in debate] == [
        (
            "Clause 117 — Grounds for designation of MCZs",
            "uk.org.publicwhip/debate/2009-10-26b.117.4",  # first speech under heading 117.3
            "https://www.theyworkforyou.com/debates/?id=2009-10-26b.117.3",
        )
    ]
    assert [link.label for link in division.links if link.rel == "bill"] == [
        "Marine and Coastal Access Bill [Lords]"
    ]
    assert division.party_breakdown == {"Unknown": {"aye": 160, "no": 248}}
    assert division.render_text().startswith(
        "Division 230, 26 Oct 2009, Marine and Coastal Access Bill [Lords], report stage: Ayes 158, Noes 246."
    )


def test_lords_and_committee_divisions(connector, twfy_root) -> None:
    lords = divisions(parsed(connector, twfy_root, "lordspages/daylord2009-10-26a.xml"))
    assert [(d.ayes, d.noes) for d in lords] == [(153, 127), (113, 155), (69, 118), (99, 84)]
    assert {d.bill_title for d in lords} == {"Coroners and Justice Bill"}
    assert {d.stage for d in lords} == {"report stage"}
    assert lords[0].url == "https://www.theyworkforyou.com/lords/?id=2009-10-26a.1003.2"
    teller = next(v for v in lords[0].votes if v.teller)
    assert teller.name == "Cathcart, E."  # "[Teller]" suffix dropped, flag kept
    assert {v.vote for v in lords[0].votes} == {"content", "not_content"}

    committee = divisions(
        parsed(connector, twfy_root, "standing/standing2009-10-20_CHILDPOV_06-0_2009-10-27a.xml")
    )
    assert [(d.number, d.ayes, d.noes, len(d.votes)) for d in committee] == [
        (2, 7, 9, 16),
        (3, 7, 9, 16),
        (4, 7, 9, 16),
        (5, 7, 9, 16),
    ]
    first = committee[0]
    assert first.house == "public_bill_committee"
    assert first.bill_title == "Child Poverty Bill"
    assert first.stage == "committee stage"
    assert first.votes[0].member_id == "uk.org.publicwhip/member/1409"
    assert first.url == "https://www.theyworkforyou.com/pbc/2008-09/Child_Poverty_Bill/06-0_2009-10-27a.3.14"
    assert [link.target for link in first.links if link.rel == "debate"] == [
        "uk.org.publicwhip/standing/standing2009-10-20_CHILDPOV_06-0_2009-10-27a.3.1"
    ]  # the first speech under the heading (3.0): headings are not indexed, speeches are


# -- speeches ------------------------------------------------------------------------------------


def _speech(connector, root, name, native_id) -> Speech:
    return next(s for s in speeches(parsed(connector, root, name)) if s.native_id == native_id)


def test_speech_fields_and_deep_links(connector, twfy_root) -> None:
    s = _speech(
        connector, twfy_root, "debates/debates2009-10-26b.xml", "uk.org.publicwhip/debate/2009-10-26b.125.1"
    )
    assert (s.speaker_name, s.speaker_id, s.house, s.parliament, s.column) == (
        "Ann McKechin",
        "uk.org.publicwhip/member/1987",
        "commons",
        "uk",
        "125",
    )
    assert s.paragraphs[0] == (
        "I am pleased to confirm that that is indeed the case, and I am pleased to put that on the record."
    )
    assert s.url == "https://www.theyworkforyou.com/debates/?id=2009-10-26b.125.1"
    assert s.title == "Clause 117 — Grounds for designation of MCZs"
    assert not s.procedural
    assert [link.url for link in s.links if link.rel == "source"] == [
        "http://www.publications.parliament.uk/pa/cm200809/cmhansrd/cm091026/debtext/91026-0020.htm#0910278000555"
    ]

    urls = {
        "lordspages/daylord2009-10-26a.xml": "https://www.theyworkforyou.com/lords/?id=2009-10-26a.971.1",
        "westminhall/westminster2009-10-27a.xml": "https://www.theyworkforyou.com/whall/?id=2009-10-27a.1.1",
        "sp/sp2009-10-28.xml": "https://www.theyworkforyou.com/sp/?id=2009-10-28.20529.0",
        "standing/standing2009-10-20_CHILDPOV_05-0_2009-10-27a.xml": (
            "https://www.theyworkforyou.com/pbc/2008-09/Child_Poverty_Bill/05-0_2009-10-27a.1.1"
        ),
    }
    for name, url in urls.items():
        assert speeches(parsed(connector, twfy_root, name))[0].url == url

    scottish = speeches(parsed(connector, twfy_root, "sp/sp2009-10-28.xml"))[2]
    assert (scottish.parliament, scottish.house) == ("scotland", "scottish_parliament")
    assert scottish.speaker_id is None  # speakerid="unknown"
    assert scottish.speaker_name == "Father Paul Kelly (St Michael's Roman Catholic Church, Linlithgow)"

    committee = speeches(
        parsed(connector, twfy_root, "standing/standing2009-10-20_CHILDPOV_05-0_2009-10-27a.xml")
    )
    assert committee[0].heading_path[0] == "Child Poverty Bill"


def test_inline_phrases_flattened(connector, twfy_root) -> None:
    s = _speech(
        connector, twfy_root, "debates/debates2009-10-26b.xml", "uk.org.publicwhip/debate/2009-10-26b.125.3"
    )
    assert s.paragraphs[-1] == (
        "Mr. Speaker put forthwith the Question already proposed from the Chair "
        "(Standing Order No. 83E), That the amendment be made."
    )
    assert s.paragraphs[2] == '"the marine ecosystem as a whole"'


def test_procedural_speeches_are_kept_and_marked(connector, twfy_root) -> None:
    name = "debates/debates2009-10-26b.xml"
    rose = _speech(connector, twfy_root, name, "uk.org.publicwhip/debate/2009-10-26b.49.4")
    assert (rose.speaker_name, rose.paragraphs, rose.procedural) == ("Martin Salter", ["rose-"], True)
    divided = _speech(connector, twfy_root, name, "uk.org.publicwhip/debate/2009-10-26b.125.4")
    assert (divided.speaker_name, divided.procedural) == (None, True)
    assert divided.paragraphs == ["The House divided: Ayes 158, Noes 246."]
    content = (twfy_root / name).read_bytes()
    all_speeches = speeches(parsed(connector, twfy_root, name))
    assert sum(1 for s in all_speeches if s.speaker_name is None) == len(
        re.findall(rb'<speech[^>]*nospeaker="true"', content)
    )
    assert all(s.procedural for s in all_speeches if s.speaker_name is None)
    assert sum(1 for s in all_speeches if not s.procedural) > 0.8 * len(all_speeches)


def test_accented_names_survive_latin1(connector, twfy_root) -> None:
    name = "debates/debates2009-10-28c.xml"
    content = (twfy_root / name).read_bytes()
    # speaker names holding non-ASCII bytes in this ISO-8859-1 file, read without the parser
    raw_names = {
        m.decode("iso-8859-1") for m in re.findall(rb'speakername="([^"]*[\x80-\xff][^"]*)"', content)
    }
    assert raw_names == {"Lembit Öpik"}
    parsed_names = {s.speaker_name for s in speeches(parsed(connector, twfy_root, name))}
    assert raw_names <= parsed_names
    # &Ouml; from the internal DTD, in a division list
    names = {v.name for d in divisions(parsed(connector, twfy_root, name)) for v in d.votes}
    assert "Öpik, Lembit" in names
    # a raw 0xC9 byte in running text
    text = " ".join(s.text for s in speeches(parsed(connector, twfy_root, "debates/debates2009-10-27d.xml")))
    assert "caught on tape by RTÉ" in text
    assert "für das Leben" in text


def test_cp1252_references_in_committee_file(connector, twfy_root) -> None:
    s = _speech(
        connector,
        twfy_root,
        "standing/standing2009-10-20_CHILDPOV_05-0_2009-10-27a.xml",
        "uk.org.publicwhip/standing/standing2009-10-20_CHILDPOV_05-0_2009-10-27a.2.2",
    )
    assert s.paragraphs[0] == "I beg to move amendment 59, in clause 1, page 1, line 10, at end insert—"
    assert s.paragraphs[1].startswith("‘(e) the reductions")
    assert s.paragraphs[1].endswith("targets].’.")


def test_no_c1_control_characters_anywhere(connector, twfy_root) -> None:
    for name in MIRROR_FILES:
        for doc in parsed(connector, twfy_root, name).documents:
            text = doc.text if isinstance(doc, Speech) else doc.render_text()
            assert not re.search(
                "[\x80-\x9f]", text + doc.title + (getattr(doc, "speaker_name", None) or "")
            ), name


def test_cp1252_mapping_tiny_document(connector) -> None:
    doc = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<!DOCTYPE publicwhip [\n<!ENTITY rsquo "&#8217;">\n<!ENTITY mdash "&#8212;">\n]>\n'
        b'<publicwhip scrapeversion="a" latest="yes">\n'
        b'<minor-heading id="uk.org.publicwhip/debate/2009-10-26a.1.0">Caf\xe9 &#150; Licensing</minor-heading>\n'
        b'<speech id="uk.org.publicwhip/debate/2009-10-26a.1.1" speakerid="uk.org.publicwhip/member/1720"'
        b' speakername="Lembit \xd6pik">\n'
        b"<p>The hon. Member&#146;s point &rsquo; &#147;quoted&#148; &#151; and so on&#133;</p>\n"
        b"</speech>\n</publicwhip>\n"
    )
    raw = RawFile(name="debates/debates2009-10-26a.xml", content=doc, url="file:///x")
    result = connector.parse(raw, "2009-10-26")
    assert result.quarantined == []
    (speech,) = speeches(result)
    assert speech.paragraphs == ["The hon. Member’s point ’ “quoted” — and so on…"]
    assert speech.speaker_name == "Lembit Öpik"
    assert speech.title == "Café – Licensing"


def test_clean_text() -> None:
    assert clean_text("  Marine and Coastal Access Bill  [ Lords ]\n\t(  Programme)\xa0 ") == (
        "Marine and Coastal Access Bill [Lords] (Programme)"
    )
    assert clean_text("Member\x92s \x93quote\x94 \x96 \x97 \x85") == "Member’s “quote” – — …"


# -- partitions and fetching ---------------------------------------------------------------------


def test_list_partitions(connector) -> None:
    assert connector.list_partitions() == ["2009-10-26", "2009-10-27", "2009-10-28", "2009-10-29"]


def test_standing_files_belong_to_their_sitting_date() -> None:
    f = parse_file_name("standing2009-10-20_CHILDPOV_05-0_2009-10-27a.xml")
    assert (str(f.sitting_date), f.version) == ("2009-10-27", "a")
    sp = parse_file_name("sp2009-10-28.xml")
    assert (str(sp.sitting_date), sp.version) == ("2009-10-28", "")
    assert parse_file_name("changedates.txt") is None


def test_fetch_raw_returns_the_days_files(connector, twfy_root) -> None:
    raws = connector.fetch_raw("2009-10-27")
    assert sorted(r.name for r in raws) == [
        "debates/debates2009-10-27d.xml",
        "divisionsonly/divisions2009-10-27d.xml",
        "lordspages/daylord2009-10-27a.xml",
        "standing/standing2009-10-20_CHILDPOV_05-0_2009-10-27a.xml",
        "standing/standing2009-10-20_CHILDPOV_06-0_2009-10-27a.xml",
        "westminhall/westminster2009-10-27a.xml",
    ]
    for raw in raws:
        assert raw.content == (twfy_root / raw.name).read_bytes()
        assert raw.url == f"{twfy_root.as_uri()}/{raw.name}"
    assert connector.fetch_raw("2009-10-20") == []  # a committee series date is not a sitting
    with pytest.raises(ValueError):
        connector.fetch_raw("not-a-date")


def _rescrape(content: bytes, old: str, new: str) -> bytes:
    """The same day re-scraped as version `new`: ids and scrapeversion carry the new letter."""
    return content.replace(f"2009-10-26{old}.".encode(), f"2009-10-26{new}.".encode()).replace(
        f'scrapeversion="{old}"'.encode(), f'scrapeversion="{new}"'.encode()
    )


@pytest.fixture
def versioned_mirror(tmp_path: Path, twfy_root: Path) -> Path:
    """debates/ for 26 Oct in three versions: a (older), b (the sample), c (newer)."""
    root = tmp_path / "twfy"
    for directory in TWFY_DIRS:
        (root / directory).mkdir(parents=True)
    sample = (twfy_root / "debates/debates2009-10-26b.xml").read_bytes()
    (root / "debates/debates2009-10-26b.xml").write_bytes(sample)
    older = _rescrape(sample, "b", "a").replace(b'latest="yes"', b'latest="no"')
    (root / "debates/debates2009-10-26a.xml").write_bytes(older)
    (root / "debates/debates2009-10-26c.xml").write_bytes(_rescrape(sample, "b", "c"))
    shutil.copy(twfy_root / "divisionsonly/divisions2009-10-26b.xml", root / "divisionsonly")
    return root


def test_fetch_raw_takes_the_latest_version(versioned_mirror: Path) -> None:
    connector = TwfyConnector(base_url=versioned_mirror.as_uri())
    assert connector.list_partitions() == ["2009-10-26"]
    raws = connector.fetch_raw("2009-10-26")
    assert [r.name for r in raws] == [
        "debates/debates2009-10-26c.xml",
        "divisionsonly/divisions2009-10-26b.xml",
    ]
    assert b'scrapeversion="c"' in raws[0].content


def test_parse_all_drops_superseded_versions(versioned_mirror: Path) -> None:
    connector = TwfyConnector(base_url=versioned_mirror.as_uri())
    raws = [
        raw_file(versioned_mirror, n)
        for n in ("debates/debates2009-10-26a.xml", "debates/debates2009-10-26b.xml")
    ]
    result = connector.parse_all(raws, "2009-10-26")
    ids = [d.native_id for d in result.documents]
    assert len(ids) == len(set(ids)) == 471 + 1
    assert all("2009-10-26b." in i for i in ids)


def test_parse_all_dedupes_subset_views(connector) -> None:
    raws = connector.fetch_raw("2009-10-26")
    # subset views first, to prove the main chamber file wins regardless of order
    raws.sort(key=lambda r: "divisions" not in r.name)
    result = connector.parse_all(raws, "2009-10-26")
    ids = [d.native_id for d in result.documents]
    assert len(ids) == len(set(ids))
    kinds = Counter(d.kind for d in result.documents)
    assert kinds == {"speech": 471 + 227, "division": 1 + 4}
    # divisionsonly carries 8 of this speech's 15 paragraphs; the main file has it whole
    main = next(d for d in result.documents if d.native_id == "uk.org.publicwhip/debate/2009-10-26b.30.3")
    assert len(main.paragraphs) == 15
    # the subset file lacks the "Consideration of Bill" speech, so only the main file knows the stage
    (division,) = [d for d in result.documents if isinstance(d, Division) and d.house == "commons"]
    assert division.stage == "report stage"
    assert result.quarantined == []


def test_ids_are_deterministic(connector, twfy_root) -> None:
    name = "lordspages/daylord2009-10-28a.xml"
    first = connector.parse(raw_file(twfy_root, name), "2009-10-28")
    second = TwfyConnector(base_url=twfy_root.as_uri()).parse(raw_file(twfy_root, name), "2009-10-28")
    assert [d.doc_id for d in first.documents] == [d.doc_id for d in second.documents]
    division = divisions(first)[0]
    assert division.doc_id == document_id("twfy", "uk.org.publicwhip/lords/2009-10-28a.1229.0")
    assert len({d.doc_id for d in first.documents}) == len(first.documents)


# -- damaged input -------------------------------------------------------------------------------


def _lines(content: bytes) -> int:
    return content.count(b"\n") + 1


def test_truncated_file_lands_what_precedes_the_cut(connector, twfy_root) -> None:
    name = "debates/debates2009-10-26b.xml"
    full = (twfy_root / name).read_bytes()
    cut = full[: int(len(full) * 0.6)]
    result = connector.parse(RawFile(name=name, content=cut, url="file:///cut"), "2009-10-26")
    complete = cut.count(b"</speech>")
    got = [s.native_id for s in speeches(result)]
    whole = [s.native_id for s in speeches(parsed(connector, twfy_root, name))]
    assert got == whole[:complete]
    assert complete > 250
    assert len(result.quarantined) == 1
    (fault,) = result.quarantined
    last_record_line = _lines(cut[: cut.rfind(b"<speech")])
    assert last_record_line <= fault.line <= _lines(cut)
    assert name in fault.reason and f"line {fault.line}" in fault.reason
    assert (fault.source, fault.partition_key, fault.file) == ("twfy", "2009-10-26", name)
    assert 100 < len(fault.excerpt) <= 500


def test_garbled_file_keeps_speeches_on_both_sides(connector, twfy_root) -> None:
    name = "debates/debates2009-10-26b.xml"
    full = (twfy_root / name).read_bytes()
    at = full.index(b"<p ", len(full) // 2)
    at = full.index(b">", at) + 1
    garbled = full[:at] + b"\x00\x01<<<&&garbage\x02 " + full[at:]
    result = connector.parse(RawFile(name=name, content=garbled, url="file:///garbled"), "2009-10-26")
    whole = [s.native_id for s in speeches(parsed(connector, twfy_root, name))]
    broken_id = re.findall(rb'<speech[^>]*?\sid="([^"]+)"', full[:at])[-1].decode()
    got = [s.native_id for s in speeches(result)]
    assert got == [i for i in whole if i != broken_id]
    assert len(divisions(result)) == 1
    (fault,) = result.quarantined
    assert fault.line == _lines(full[:at])
    assert f"{name}, line {fault.line}:" in fault.reason
    assert "garbage" in fault.excerpt


def test_garbled_utf8_committee_file(connector, twfy_root) -> None:
    name = "standing/standing2009-10-20_CHILDPOV_06-0_2009-10-27a.xml"
    full = (twfy_root / name).read_bytes()
    at = full.index(b"<p>", len(full) // 3) + 3
    broken = full[:at] + b"\xff\xfe\xfa" + full[at:]
    result = connector.parse(RawFile(name=name, content=broken, url="file:///x"), "2009-10-27")
    assert len(speeches(result)) == len(re.findall(rb"<speech[\s>]", full)) - 1
    assert [d.number for d in divisions(result)] == [2, 3, 4, 5]
    (fault,) = result.quarantined
    assert fault.line == _lines(full[:at])


def test_broken_dtd_falls_back_to_html_entities(connector, twfy_root) -> None:
    name = "debates/debates2009-10-28c.xml"
    full = (twfy_root / name).read_bytes()
    broken = full.replace(b'<!ENTITY mdash   "&#8212;">', b'<!ENTITY mdash   "&#8212;>', 1)
    assert broken != full
    result = connector.parse(RawFile(name=name, content=broken, url="file:///x"), "2009-10-28")
    assert len(speeches(result)) == 491
    assert len(divisions(result)) == 2
    (fault,) = result.quarantined
    assert fault.line == 8 and "DTD" in fault.reason
    assert any("—" in s.text for s in speeches(result))  # &mdash; still resolves


def test_speech_without_id_is_quarantined(connector, twfy_root) -> None:
    name = "westminhall/westminster2009-10-29a.xml"
    full = (twfy_root / name).read_bytes()
    target = b'<speech id="uk.org.publicwhip/westminhall/2009-10-29a.148.0" '
    assert target in full
    broken = full.replace(target, b"<speech ")
    result = connector.parse(RawFile(name=name, content=broken, url="file:///x"), "2009-10-29")
    assert len(speeches(result)) == 52 - 1
    (fault,) = result.quarantined
    assert "no id" in fault.reason
    assert fault.line == _lines(full[: full.index(target)])


@pytest.mark.parametrize(
    "content",
    [b"", b"not xml at all", b"<publicwhip>", b"\xff\xfe\x00<", b"<?xml version='1.0'?><other/>"],
)
def test_parse_never_raises(connector, content) -> None:
    result = connector.parse(
        RawFile(name="debates/debates2009-10-26z.xml", content=content, url="x"), "2009-10-26"
    )
    assert result.documents == []
    assert len(result.quarantined) >= 1
    assert all("debates/debates2009-10-26z.xml" in q.reason for q in result.quarantined)


def test_unknown_directory_is_quarantined(connector) -> None:
    result = connector.parse(
        RawFile(name="wrans/answers2009-10-26a.xml", content=b"<publicwhip/>", url="x"), "2009-10-26"
    )
    assert result.documents == [] and len(result.quarantined) == 1
